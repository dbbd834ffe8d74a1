"""Restoring into an existing database: the backup goes into a scratch database first (as the restore role),
then its rows replace the target's, table by table, in one transaction of ours.

Why not pg_restore --clean into the target: that runs the file's SQL with the privileges of whoever owns the
target's tables (the app's role, often a superuser). Here the file's SQL only ever runs in the scratch database
as the restore role; the target receives rows (binary COPY of the columns it already has) and sequence values,
nothing else — its schema, functions, triggers and grants stay its own. So the target's tables must have the
backup's columns (same names and types); otherwise the restore is refused and nothing changes.

`keep` names tables whose rows stay as they are (the audit trail), `empty` tables that are emptied and not
refilled (sessions: a restore signs everyone out). Rows of kept tables that pointed at rows the restore took
away keep their own text (e.g. audit actor_name) and lose only the dangling link (set to NULL).
"""

import psycopg
from django.conf import settings
from psycopg import sql

from config.dbcheck import first_line
from dbtools.backups import catalog
from dbtools.backups.errors import BackupError
from dbtools.backups.tools import connect

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attgenerated = '' ORDER BY a.attnum
"""
# Sequences of the app's schemas (not an extension's), with the table they belong to (if any).
SEQUENCES_SQL = """
SELECT n.nspname, s.relname, tn.nspname, t.relname
FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE s.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = s.oid
                  AND e.deptype = 'e')
"""
# Single-column foreign keys from `kept` tables into replaced ones, nullable: (table, column, ref table, ref column).
DANGLING_SQL = """
SELECT k.conrelid::regclass::text, a.attname, k.confrelid, r.attname
FROM pg_constraint k
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
JOIN pg_attribute r ON r.attrelid = k.confrelid AND r.attnum = k.confkey[1]
WHERE k.contype = 'f' AND cardinality(k.conkey) = 1 AND k.conrelid = %s::regclass AND NOT a.attnotnull
"""


def _ident(table):
    return sql.Identifier(*table)


def _regclass(table):
    return ".".join('"' + part.replace('"', '""') + '"' for part in table)


def _ordered(conn, tables):
    """Referenced tables before the tables referencing them (rows go in that way, and out the other way)."""
    tables = list(tables)
    needs = {t: set() for t in tables}
    for a, b, c, d in conn.execute(catalog.REFERENCES_SQL).fetchall():
        if (a, b) in needs and (c, d) in needs and (a, b) != (c, d):
            needs[(a, b)].add((c, d))
    ordered = []
    while needs:
        ready = sorted(t for t, deps in needs.items() if not deps - set(ordered)) or sorted(needs)[:1]
        for table in ready:
            ordered.append(table)
            del needs[table]
    return ordered


def _leaves(conn):
    """The tables that hold rows of their own (not partitioned parents)."""
    kinds = dict(((s, t), k) for s, t, k in conn.execute(
        "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p')").fetchall())
    return [t for t in catalog.table_list(conn) if kinds.get(t) == "r"]


def _columns(conn, table):
    return [tuple(row) for row in conn.execute(COLUMNS_SQL, [_regclass(table)]).fetchall()]


def _check_schema(src, dst, tables, target_tables):
    missing = [catalog.qualified(*t) for t in tables if t not in target_tables]
    if missing:
        raise BackupError(f"the target has no table {', '.join(missing[:5])}: its schema is not the backup's; "
                          "restore into a new database (--create) instead", code="schema_mismatch")
    for table in tables:
        if _columns(src, table) != _columns(dst, table):
            raise BackupError(f"table {catalog.qualified(*table)} has other columns in the target than in the "
                              "backup: bring the schema to the backup's version first, or restore into a new "
                              "database (--create)", code="schema_mismatch")


def _counts(conn, tables):
    return catalog.row_counts(conn, tables)


def _copy_rows(src, dst, table, columns):
    names = sql.SQL(", ").join(sql.Identifier(name) for name, _type in columns)
    out = sql.SQL("COPY (SELECT {} FROM ONLY {}) TO STDOUT (FORMAT binary)").format(names, _ident(table))
    into = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(_ident(table), names)
    with src.cursor().copy(out) as reader, dst.cursor().copy(into) as writer:
        for block in reader:
            writer.write(block)


def _sequences(conn):
    return {(s, n): (ts, tn) for s, n, ts, tn in conn.execute(SEQUENCES_SQL).fetchall()}


def _copy_sequences(src, dst, keep):
    target = _sequences(dst)
    for seq, owner in _sequences(src).items():
        if seq not in target or (owner[1] and owner in keep):
            continue
        value, called = src.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(_ident(seq))).fetchone()
        dst.execute("SELECT pg_catalog.setval(%s::regclass, %s, %s)", [_regclass(seq), value, called])


def _unlink_dangling(dst, keep, replaced):
    replaced_oids = {dst.execute("SELECT %s::regclass::oid", [_regclass(t)]).fetchone()[0] for t in replaced}
    for table in keep:
        for _name, column, ref_oid, ref_column in dst.execute(DANGLING_SQL, [_regclass(table)]).fetchall():
            if ref_oid not in replaced_oids:
                continue
            ref = dst.execute("SELECT %s::regclass::text", [ref_oid]).fetchone()[0]
            dst.execute(sql.SQL("UPDATE {t} SET {c} = NULL WHERE {c} IS NOT NULL AND NOT EXISTS "
                                "(SELECT 1 FROM {r} WHERE {r}.{rc} = {t}.{c})").format(
                t=_ident(table), c=sql.Identifier(column), r=sql.SQL(ref), rc=sql.Identifier(ref_column)))


def replace_rows(login, scratch, target, *, keep=(), empty=()):
    """Replace the target's rows with the scratch database's; returns {table: (rows before, rows after)}."""
    try:
        return _replace(login, scratch, target, keep, empty)
    except psycopg.Error as exc:  # a constraint of the target, a lock timeout…: one line, nothing committed
        raise BackupError(f"the target refused the rows: {first_line(exc)}") from None


def _replace(login, scratch, target, keep, empty):
    with login.connect(scratch) as src, connect(target, autocommit=False, target=login.target) as dst:
        leaves = _leaves(src)
        target_tables = set(_leaves(dst))
        empty = {t for t in target_tables if t[1] in empty or catalog.qualified(*t) in empty}
        keep = {t for t in target_tables if t[1] in keep or catalog.qualified(*t) in keep} - empty
        tables = [t for t in leaves if t not in keep and t not in empty]
        _check_schema(src, dst, tables, target_tables)
        dst.execute("SET CONSTRAINTS ALL DEFERRED")
        # A session sitting on a lock (an idle transaction) makes the restore fail cleanly instead of hang.
        dst.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{settings.BACKUP_LOCK_WAIT_TIMEOUT * 1000}ms")))
        changed = _ordered(dst, set(tables) | empty)
        tables = [t for t in changed if t in set(tables)]
        before = _counts(dst, changed)
        for table in reversed(changed):  # DELETE, not TRUNCATE: kept tables may reference these rows
            dst.execute(sql.SQL("DELETE FROM ONLY {}").format(_ident(table)))
        for table in tables:
            _copy_rows(src, dst, table, _columns(src, table))
        _copy_sequences(src, dst, keep)
        _unlink_dangling(dst, keep, changed)
        after = _counts(dst, changed)
        dst.commit()
    return {name: (before[name], after[name]) for name in before}
