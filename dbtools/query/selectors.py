"""Reads of the query editor: history and saved queries a user may see, and the schema browser's tree."""

from django.db.models import Q

from dbtools.models import EditorTab, QueryHistory, SavedQuery
from dbtools.query.connection import query_session


def history_for(user):
    entries = QueryHistory.objects.select_related("user")
    if user.has_perm("dbtools.view_all_query_history"):
        return entries
    return entries.filter(user=user)


def saved_queries_for(user):
    """Own saved queries plus the shared ones; admins (view_all_query_history) see all."""
    queries = SavedQuery.objects.select_related("owner")
    if user.has_perm("dbtools.view_all_query_history"):
        return queries
    return queries.filter(Q(owner=user) | Q(shared=True))


def saved_query_editable(user, saved):
    return saved.owner_id == user.pk or user.has_perm("dbtools.view_all_query_history")


def tabs_for(user, *, closed=False):
    """A user's open workspace tabs in order, or the closed ones newest first."""
    tabs = EditorTab.objects.filter(owner=user, closed_at__isnull=not closed)
    return tabs.order_by("-closed_at") if closed else tabs.order_by("position", "id")


def tab_for(user, pk):
    return EditorTab.objects.filter(owner=user, pk=pk).first()


SCHEMA_SQL = """
SELECT n.nspname, c.relname, c.relkind, c.reltuples::bigint,
       a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
   AND has_table_privilege(c.oid, 'SELECT')
 ORDER BY n.nspname, c.relname, a.attnum
"""
KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}


def schema_tree():
    """[{name, tables: [{name, kind, rows, columns: [{name, type}]}]}] of what the query role can read.

    Read on the query role's own connection, so the browser shows exactly what user SQL can see; the row
    figure is pg_class.reltuples (an estimate, -1 when never analysed)."""
    with query_session("read") as conn:
        rows = conn.execute(SCHEMA_SQL).fetchall()
    schemas, tables = {}, {}
    for schema, table, kind, estimate, column, column_type in rows:
        entry = tables.get((schema, table))
        if entry is None:
            entry = {"name": table, "kind": KINDS.get(kind, kind), "rows": max(int(estimate), 0)
                     if estimate is not None and estimate >= 0 else None, "columns": []}
            tables[(schema, table)] = entry
            schemas.setdefault(schema, []).append(entry)
        if column:
            entry["columns"].append({"name": column, "type": column_type})
    return [{"name": name, "tables": items} for name, items in schemas.items()]


def completion_schema(tree):
    """The editor's autocomplete namespace: {"schema.table": [columns], "table": [columns] for public}."""
    namespace = {}
    for schema in tree:
        for table in schema["tables"]:
            columns = [c["name"] for c in table["columns"]]
            namespace[f"{schema['name']}.{table['name']}"] = columns
            if schema["name"] == "public":
                namespace[table["name"]] = columns
    return namespace
