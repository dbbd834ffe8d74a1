"""What PostgreSQL's catalog says about some tables, to compare two ways of creating them (adopt, tests)."""

import difflib

import psycopg

from targets import seam

COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attnum
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relname = ANY(%(tables)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), k.condeferrable, k.condeferred,
       k.confdeltype, k.confupdtype
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relname = ANY(%(tables)s)
ORDER BY c.relname, k.conname
"""

INDEXES = """
SELECT tablename, indexname, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename = ANY(%(tables)s)
ORDER BY tablename, indexname
"""

SEQUENCES = """
SELECT s.relname, format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement, dep_t.relname, a.attname
FROM pg_class s
JOIN pg_sequence q ON q.seqrelid = s.oid
JOIN pg_namespace n ON n.oid = s.relnamespace
LEFT JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class dep_t ON dep_t.oid = d.refobjid
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE n.nspname = 'public' AND s.relkind = 'S' AND dep_t.relname = ANY(%(tables)s)
ORDER BY s.relname
"""

TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname
"""

SECTIONS = (("columns", COLUMNS), ("constraints", CONSTRAINTS), ("indexes", INDEXES), ("sequences", SEQUENCES))


def conninfo_for(settings_dict, dbname=None):
    """A libpq conninfo string for Django's settings dict (every option, TLS included, from the connection seam),
    optionally for another database on that server. No application_name: not one of the app's pooled backends."""
    params = seam.settings_params(settings_dict, "app", application_name=None,
                                  **({"dbname": dbname} if dbname else {}))
    return psycopg.conninfo.make_conninfo(**params)


def public_tables(conninfo):
    with psycopg.connect(conninfo) as conn:
        return [row[0] for row in conn.execute(TABLES).fetchall()]


def catalog_snapshot(conninfo, tables=("users", "posts")):
    """Columns, constraints, indexes and owned sequences of `tables` in schema public, as comparable lists."""
    params = {"tables": list(tables)}
    with psycopg.connect(conninfo) as conn:
        return {name: [tuple(row) for row in conn.execute(query, params).fetchall()] for name, query in SECTIONS}


def _describe(section, row):
    if section == "columns":
        table, column, type_, notnull, default, identity, generated, _num = row
        extras = [" NOT NULL" if notnull else " NULL", f" DEFAULT {default}" if default else "",
                  f" IDENTITY {identity}" if identity else "", f" GENERATED {generated}" if generated else ""]
        return f"column {table}.{column} {type_}" + "".join(extras)
    if section == "constraints":
        return f"constraint {row[0]}.{row[1]} {row[3]}" + (" DEFERRABLE" if row[4] else "")
    if section == "indexes":
        return f"index {row[2]}"
    return f"sequence {row[0]} {row[1]} start {row[2]} increment {row[3]} owned by {row[4]}.{row[5]}"


def _lines(snapshot):
    for section, _query in SECTIONS:
        for row in snapshot.get(section, []):
            yield _describe(section, row)


def catalog_diff(expected, actual, expected_label="expected", actual_label="live database"):
    """A unified diff (list of lines) between two snapshots; empty when they are the same."""
    return list(difflib.unified_diff(list(_lines(expected)), list(_lines(actual)), fromfile=expected_label,
                                     tofile=actual_label, lineterm="", n=0))
