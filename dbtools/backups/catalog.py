"""The source snapshot: which tables a dump holds and their exact row counts, read on our own connection."""

import psycopg
from psycopg import sql

from dbtools.backups.errors import BackupError

# Tables pg_dump dumps: ordinary and partitioned tables outside the system schemas, not owned by an extension.
TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2
"""

RESOLVE_SQL = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = pg_catalog.to_regclass(%s) AND c.relkind IN ('r', 'p')
"""

# Foreign keys between tables: (referencing schema, table, referenced schema, table).
REFERENCES_SQL = """
SELECT n.nspname, c.relname, rn.nspname, r.relname
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f'
"""

# Tables whose rows are secrets or other users' data (sessions are live logins; users and keys hold hashes).
PRIVATE_TABLES = frozenset({
    "django_session", "accounts_user", "accounts_user_groups", "accounts_user_user_permissions", "api_keys",
    "axes_accessattempt", "axes_accessfailurelog", "axes_accessattemptexpiration", "axes_accesslog",
    "audit_events", "django_admin_log", "query_history", "saved_queries",
})


def table_list(conn):
    return [tuple(row) for row in conn.execute(TABLES_SQL).fetchall()]


def resolve_tables(conn, names):
    """Exact (schema, table) for each --table name: only the tables a full backup holds (never a system
    catalog such as pg_authid, nor another schema's hidden tables); anything else is a one-line error."""
    allowed = set(table_list(conn))
    resolved = []
    for name in names:
        try:
            row = conn.execute(RESOLVE_SQL, [name]).fetchone()
        except psycopg.Error:  # not even a name (PostgreSQL < 16 raises on bad syntax); checked in autocommit
            row = None
        if row is None or tuple(row) not in allowed:
            raise BackupError(f"table {name!r} does not exist in the database or is not one of its own tables",
                              code="invalid_table")
        resolved.append(tuple(row))
    return resolved


def private_tables(conn, tables):
    """The tables whose rows a non-admin's backup leaves out: the private ones and, transitively, every table
    whose rows reference them (a dump holding such rows without their targets would not restore)."""
    tables = set(tables)
    private = {t for t in tables if t[1] in PRIVATE_TABLES}
    edges = [((a, b), (c, d)) for a, b, c, d in conn.execute(REFERENCES_SQL).fetchall()]
    grown = True
    while grown:
        more = {src for src, dst in edges if dst in private and src in tables} - private
        private |= more
        grown = bool(more)
    return sorted(private)


def extensions(conn):
    """The extensions a restore of this database expects (created for it in advance: the restore role may not)."""
    rows = conn.execute("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def qualified(schema, table):
    return f"{schema}.{table}"


def row_counts(conn, tables):
    """Exact counts (ONLY: a partitioned parent counts its own rows, each partition its own)."""
    counts = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*) FROM ONLY {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[qualified(schema, table)] = conn.execute(query).fetchone()[0]
    return counts


def compare(expected, actual):
    """(ok, one-line result) comparing the snapshot's tables/counts with a restored database's."""
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differ = [f"{name} {expected[name]}→{actual[name]}" for name in sorted(set(expected) & set(actual))
              if expected[name] != actual[name]]
    problems = ([f"missing tables: {', '.join(missing)}"] if missing else []) + \
               ([f"unexpected tables: {', '.join(extra)}"] if extra else []) + \
               ([f"row counts differ: {', '.join(differ)}"] if differ else [])
    if problems:
        return False, "; ".join(problems)[:2000]
    return True, f"ok: {len(expected)} tables, {sum(expected.values())} rows match the snapshot"
