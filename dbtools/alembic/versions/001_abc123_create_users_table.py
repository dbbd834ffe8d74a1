"""Create the seed's `users` table (Django: blog.0001_create_users_table).

Revision ID: abc123
Revises:
Create Date: 2026-11-24
"""

import sqlparse
from alembic import op

from blog.seed_schema import USERS_DDL, USERS_DROP

revision = "abc123"
down_revision = None
branch_labels = None
depends_on = None


def _run(script):
    # One statement per execute, as Django's RunSQL does: the driver refuses several in a prepared statement.
    # Without its own ";": `alembic upgrade --sql` ends every statement with one already.
    for statement in sqlparse.split(script):
        if statement.strip().rstrip(";").strip():
            op.execute(statement.strip().rstrip(";"))


def upgrade():
    _run(USERS_DDL)


def downgrade():
    _run(USERS_DROP)
