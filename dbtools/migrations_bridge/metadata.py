"""SQLAlchemy MetaData for Alembic's autogenerate and `alembic check`, built from the Django models of the
mirrored apps (settings.ALEMBIC_MIRRORED_APPS): tables, columns (the type Django would create, nullability,
primary key), foreign keys, indexes and unique constraints of Meta.

A small mapper instead of a library (aldjemy and the like map for querying, and pull in more than the schema):
each column's type is the SQL type Django's own schema editor would write (`field.db_type`), parsed into the
SQLAlchemy type PostgreSQL's reflection gives back, so both sides compare like for like.
"""

import re

import sqlalchemy as sa
from django.apps import apps
from django.db import connection
from django.db.models import DO_NOTHING, ForeignKey, UniqueConstraint
from sqlalchemy.dialects import postgresql

from dbtools.migrations_bridge.revisions import mirrored_apps

DB_DECIDES_ON_DELETE = "pgdeck_db_decides_on_delete"

_SIMPLE = {
    "integer": sa.Integer, "serial": sa.Integer, "bigint": sa.BigInteger, "bigserial": sa.BigInteger,
    "smallint": sa.SmallInteger, "text": sa.Text, "boolean": sa.Boolean, "date": sa.Date,
    "double precision": sa.Float, "real": sa.REAL, "uuid": sa.Uuid, "jsonb": postgresql.JSONB,
    "timestamp": sa.DateTime, "timestamp without time zone": sa.DateTime, "inet": postgresql.INET,
    "bytea": sa.LargeBinary, "interval": sa.Interval, "time": sa.Time,
}


def column_type(db_type):
    """The SQLAlchemy type of a PostgreSQL type name as Django writes it (e.g. "varchar(50)")."""
    text = db_type.lower().split(" generated ")[0].strip()
    if text in _SIMPLE:
        return _SIMPLE[text]()
    if text == "timestamp with time zone":
        return sa.DateTime(timezone=True)
    match = re.fullmatch(r"varchar\((\d+)\)", text)
    if match:
        return sa.String(int(match.group(1)))
    match = re.fullmatch(r"numeric\((\d+),\s*(\d+)\)", text)
    if match:
        return sa.Numeric(int(match.group(1)), int(match.group(2)))
    return sa.types.NullType()  # unknown to the mapper: compared by name only


def _column(field):
    args = [field.column, column_type(field.db_type(connection) or "")]
    info = {}
    if isinstance(field, ForeignKey):
        target = field.target_field
        args.append(sa.ForeignKey(f"{target.model._meta.db_table}.{target.column}"))
        # DO_NOTHING: Django leaves ON DELETE to the database (the seed's posts.user_id is ON DELETE CASCADE),
        # so the model cannot say what the constraint's action is; include_object skips comparing it.
        info[DB_DECIDES_ON_DELETE] = field.remote_field.on_delete is DO_NOTHING
    options = {"autoincrement": field.get_internal_type().endswith("AutoField")} if field.primary_key else {}
    return sa.Column(*args, primary_key=field.primary_key, nullable=field.null and not field.primary_key, info=info,
                     **options)


def _table(model, metadata):
    meta = model._meta
    items = [_column(field) for field in meta.local_concrete_fields]
    columns = {field.name: field.column for field in meta.local_concrete_fields}
    for index in meta.indexes:
        items.append(sa.Index(index.name, *[columns[name.lstrip("-")] for name in index.fields]))
    for constraint in meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields and constraint.condition is None:
            items.append(sa.UniqueConstraint(*[columns[name] for name in constraint.fields], name=constraint.name))
    return sa.Table(meta.db_table, metadata, *items)


def include_object(metadata):
    """Alembic's include_object: only the mirrored apps' tables (Django's own tables are Django's business), and
    no comparison of a foreign key whose ON DELETE the model leaves to the database, nor of pgdeck's own search
    indexes on the seed's tables (blog/search_schema.py: added by a dbtools migration, not part of any model)."""
    from blog.search_schema import SEARCH_INDEXES

    def include(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            return name in metadata.tables
        if type_ == "index" and reflected and name in SEARCH_INDEXES:
            return False
        if type_ == "foreign_key_constraint":
            table = metadata.tables.get(obj.parent.name)
            columns = [c.name for c in obj.columns]
            if table is not None and columns and all(
                    c in table.c and table.c[c].info.get(DB_DECIDES_ON_DELETE) for c in columns):
                return False
        return True

    return include


def bridged_metadata():
    metadata = sa.MetaData()
    for label in mirrored_apps():
        for model in apps.get_app_config(label).get_models():
            if model._meta.managed and not model._meta.proxy:
                _table(model, metadata)
    return metadata
