"""RunAlembicRevision: the database side of a Django migration that `manage.py alembic pair REV` wrote.

It runs the Alembic revision script's own upgrade()/downgrade(), rendered to SQL by Alembic's offline mode
(as `alembic upgrade --sql` does), through Django's schema editor: both histories execute the same script, and
`sqlmigrate` / the admin's confirmation page show its SQL. A script that must read the database while it runs
(op.get_bind()) cannot be rendered offline; pair such a revision by hand.
"""

from io import StringIO

import sqlparse
from django.db.migrations.operations.base import Operation


def revision_sql(revision, direction="upgrade"):
    """The SQL of `revision`'s upgrade() or downgrade() as Alembic's offline mode renders it for PostgreSQL."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    from dbtools.migrations_bridge.scripts import script_directory

    script = script_directory().get_revision(revision)
    buffer = StringIO()
    context = MigrationContext.configure(dialect_name="postgresql", opts={
        "as_sql": True, "output_buffer": buffer, "literal_binds": True, "transactional_ddl": False})
    with Operations.context(context):
        getattr(script.module, direction)()
    return [s.strip().rstrip(";") for s in sqlparse.split(buffer.getvalue()) if s.strip().rstrip(";").strip()]


class RunAlembicRevision(Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, revision):
        self.revision = revision

    def deconstruct(self):
        return (self.__class__.__name__, [self.revision], {})

    def state_forwards(self, app_label, state):
        pass  # the paired migration's state_operations describe the models

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in revision_sql(self.revision, "upgrade"):
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in revision_sql(self.revision, "downgrade"):
            schema_editor.execute(statement)

    def describe(self):
        return f"Run Alembic revision {self.revision}"

    @property
    def migration_name_fragment(self):
        return f"alembic_{self.revision}"
