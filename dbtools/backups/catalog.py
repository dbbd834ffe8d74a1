"""The source snapshot: which tables a dump holds and their exact row counts, read on our own connection."""

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
WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p')
"""


def table_list(conn):
    return [tuple(row) for row in conn.execute(TABLES_SQL).fetchall()]


def resolve_tables(conn, names):
    """Exact (schema, table) for each --table name; a name that is not a table is a one-line error."""
    resolved = []
    for name in names:
        row = conn.execute(RESOLVE_SQL, [name]).fetchone()
        if row is None:
            raise BackupError(f"table {name!r} does not exist in the database")
        resolved.append(tuple(row))
    return resolved


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
    # Shown after "ok at <time>:" (detail page) and "verified:" (CLI): the verdict is not repeated here.
    tables, rows = len(expected), sum(expected.values())
    return True, f"{tables:,} table{'' if tables == 1 else 's'} and {rows:,} rows match the snapshot"
