"""For the index advisor: the top statements, and what it needs to know about a table (size, columns, the
leading columns of valid btree indexes, pg_stats)."""

from dbtools.monitoring.queries.base import fetch_all, fetch_one


def top_statements(limit):
    """This database's statements with the most total time, one row per queryid (summed over users); None when
    pg_stat_statements is not installed."""
    version = fetch_one("SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'").get("extversion")
    if not version:
        return None
    total = "total_exec_time" if tuple(int(p) for p in version.split(".")[:2]) >= (1, 8) else "total_time"
    return fetch_all(
        f"SELECT queryid, min(query) AS query, sum(calls)::bigint AS calls, sum({total})::float8 AS total_ms"  # noqa: S608
        " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND queryid IS NOT NULL GROUP BY queryid ORDER BY total_ms DESC LIMIT %s", [limit])


def resolve(tables):
    """{Table: row} for the ordinary/partitioned tables among `tables` (search_path decides unqualified ones)."""
    found = {}
    for table in tables:
        name = f"{_quote(table.schema)}.{_quote(table.name)}" if table.schema else _quote(table.name)
        rows = fetch_all(
            "SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, greatest(c.reltuples, 0)::float8"
            " AS reltuples, pg_relation_size(c.oid) AS bytes, c.reltuples >= 0 AS analyzed"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p')", [name])
        if rows:
            found[table] = rows[0]
    return found


def _quote(identifier):
    # to_regclass parses a name; double quotes keep case and odd characters exactly as the statement had them
    return '"' + identifier.replace('"', '""') + '"'


def details(oids):
    """{oid: {"columns": set, "indexes": [[col, …], …], "stats": {col: row}}} for the given tables."""
    result = {oid: {"columns": set(), "indexes": [], "stats": {}} for oid in oids}
    if not oids:
        return result
    for row in fetch_all("SELECT attrelid::int AS oid, attname FROM pg_attribute WHERE attrelid = ANY(%s::oid[])"
                         " AND attnum > 0 AND NOT attisdropped", [list(oids)]):
        result[row["oid"]]["columns"].add(row["attname"])
    # a partial index "WHERE <first column> IS NOT NULL" serves = and < on that column (they never match NULL)
    for row in fetch_all(
            "SELECT i.indrelid::int AS oid, x.columns, am.amname AS method, i.indpred IS NULL"
            " OR pg_get_expr(i.indpred, i.indrelid) = '(' || quote_ident(x.columns[1]) || ' IS NOT NULL)' AS serves"
            " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
            " CROSS JOIN LATERAL (SELECT array(SELECT a.attname FROM unnest(i.indkey[0:i.indnkeyatts - 1])"
            " WITH ORDINALITY k(attnum, ord) LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = k.attnum ORDER BY k.ord) AS columns) x"
            " WHERE i.indrelid = ANY(%s::oid[]) AND i.indisvalid", [list(oids)]):
        if row["method"] == "btree" and row["serves"]:  # hash, GIN, GiST… serve other operators than =, <
            result[row["oid"]]["indexes"].append(row["columns"])
    for row in fetch_all(
            "SELECT c.oid::int AS oid, s.attname, s.n_distinct::float8 AS n_distinct,"
            " s.correlation::float8 AS correlation, s.null_frac::float8 AS null_frac"
            " FROM pg_stats s JOIN pg_namespace n ON n.nspname = s.schemaname"
            " JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.tablename"
            " WHERE c.oid = ANY(%s::oid[]) AND NOT s.inherited", [list(oids)]):
        result[row["oid"]]["stats"][row["attname"]] = row
    return result
