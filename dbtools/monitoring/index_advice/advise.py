"""Turn column usage into CREATE INDEX CONCURRENTLY suggestions, each with its reason and the statements it helps.

Rules (why): a table smaller than MIN_ROWS is read about as fast sequentially; a btree whose
first column is one the statement filters on is already usable; an equality column helps only when one value
matches a small part of the table (n_distinct, null_frac from pg_stats); equality columns go first, most
selective first, then one range or sort column; a mostly-NULL lookup column gets a partial index.
"""

from psycopg import sql

from dbtools.monitoring.index_advice.parse import statement_usages
from dbtools.monitoring.queries import index_catalog as catalog

MIN_ROWS = 10_000
MAX_MATCH_FRACTION = 0.05  # one value must match at most 5 % of the rows for an equality index to pay off
PARTIAL_NULL_FRAC = 0.5


def _distinct(stats, reltuples):
    n_distinct = stats["n_distinct"]
    return -n_distinct * reltuples if n_distinct < 0 else n_distinct


def _selectivity(stats, reltuples):
    """The fraction of rows one value matches; None without statistics (the table was never analyzed)."""
    if not stats:
        return None
    distinct = _distinct(stats, reltuples)
    return (1 - stats["null_frac"]) / distinct if distinct > 0 else 1.0


def _resolve_unresolved(usage, info, tables):
    for column, kind, candidates in usage.unresolved:
        owners = [t for t in candidates if t in tables and column in info[tables[t]["oid"]]["columns"]]
        if len(owners) == 1:
            usage.add(kind, owners[0], column)


def _candidate(table_row, info, usage, table):
    """(columns, where, reason) for one table of one query block, or None when no index would help.

    Value filters (col = $1, col > $1) decide first; a table only joined on is looked at for its join key.
    """
    if table_row["reltuples"] < MIN_ROWS:
        return None
    usable = {index[0] for index in info["indexes"] if index}
    filters, ranges = usage.eq.get(table, []), usage.range.get(table, [])
    if filters or ranges:
        if usable & set(filters + ranges):
            return None
        candidate = _columns(table_row, info["stats"], filters, ranges, usage.sort.get(table, []))
        if candidate:
            return candidate
    joins = [c for c in usage.join.get(table, []) if c not in filters]
    if joins and not usable & set(joins):
        return _columns(table_row, info["stats"], joins[:1], [], [])
    return None


def _columns(table_row, stats, eq, ranges, sorts):
    reltuples = table_row["reltuples"]
    fractions = {c: _selectivity(stats.get(c), reltuples) for c in dict.fromkeys(eq)}
    selective = sorted((c for c, f in fractions.items() if f is not None and f <= MAX_MATCH_FRACTION),
                       key=lambda c: fractions[c])
    tail = ranges[:1] or (sorts[:1] if selective else [])
    columns = [*selective, *[c for c in tail if c not in selective]]
    if not columns:
        return None
    where = selective[0] if selective and stats[selective[0]]["null_frac"] >= PARTIAL_NULL_FRAC else None
    return columns, where, _reason(table_row, stats, selective, tail, ranges, where)


def _reason(table_row, stats, selective, tail, ranges, where):
    parts = [f"{table_row['schema']}.{table_row['name']} has ≈{int(table_row['reltuples']):,} rows and no btree"
             " index starting with a column these statements filter on"]
    for column in selective:
        row = stats[column]
        per_value = max(1, round(_selectivity(row, table_row["reltuples"]) * table_row["reltuples"]))
        parts.append(f"{column} = … matches ≈{per_value:,} rows per value (n_distinct {row['n_distinct']:g})")
    for column in tail:
        correlation = (stats.get(column) or {}).get("correlation")
        kind = "range filter" if column in ranges else "ORDER BY"
        note = f", correlation {correlation:.2f}" if correlation is not None else ""
        parts.append(f"{column} serves the {kind}{note}")
    if where:
        parts.append(f"{where} is {stats[where]['null_frac']:.0%} NULL and = never matches NULL: a partial index")
    return "; ".join(parts) + "."


def _statement_sql(table_row, columns, where):
    statement = sql.SQL("CREATE INDEX CONCURRENTLY ON {}.{} ({})").format(
        sql.Identifier(table_row["schema"]), sql.Identifier(table_row["name"]),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    if where:
        statement += sql.SQL(" WHERE {} IS NOT NULL").format(sql.Identifier(where))
    return statement.as_string()


def suggest(statements):
    """statements: [{queryid, query, calls, total_ms}] → suggestions, most total time helped first."""
    parsed = [(row, statement_usages(row["query"] or "")) for row in statements]
    wanted = {table for _row, usages in parsed for usage in usages for table in usage.tables}
    tables = catalog.resolve(wanted)
    info = catalog.details({row["oid"] for row in tables.values()})
    found = {}
    for row, usages in parsed:
        for usage in usages:
            _resolve_unresolved(usage, info, tables)
            for table in usage.tables & set(tables):
                table_row = tables[table]
                candidate = _candidate(table_row, info[table_row["oid"]], usage, table)
                if candidate:
                    _add(found, table_row, candidate, row)
    return _merge_prefixes(sorted(found.values(), key=lambda s: -s["total_ms"]))


def _add(found, table_row, candidate, statement):
    columns, where, reason = candidate
    key = (table_row["oid"], tuple(columns), where)
    entry = found.setdefault(key, {"oid": table_row["oid"], "table": f"{table_row['schema']}.{table_row['name']}",
                                   "columns": list(columns), "where": where, "reason": reason,
                                   "sql": _statement_sql(table_row, columns, where), "statements": [],
                                   "total_ms": 0.0})
    if all(s["queryid"] != statement["queryid"] for s in entry["statements"]):
        entry["statements"].append(statement)
        entry["total_ms"] += statement["total_ms"] or 0


def _merge_prefixes(suggestions):
    """(a) is served by a suggested (a, b) on the same table: keep the longer one with both sets of statements."""
    kept = []
    for entry in sorted(suggestions, key=lambda s: -len(s["columns"])):
        longer = next((k for k in kept if k["oid"] == entry["oid"] and k["where"] == entry["where"]
                       and k["columns"][:len(entry["columns"])] == entry["columns"]), None)
        if longer is None:
            kept.append(entry)
            continue
        for statement in entry["statements"]:
            if all(s["queryid"] != statement["queryid"] for s in longer["statements"]):
                longer["statements"].append(statement)
                longer["total_ms"] += statement["total_ms"] or 0
    return sorted(kept, key=lambda s: -s["total_ms"])
