"""Create the seed's `posts` table (Django: blog.0002_create_posts_table).

Revision ID: def456
Revises: abc123
Create Date: 2026-11-24
"""

import sqlparse
from alembic import op

from blog.seed_schema import POSTS_DDL, POSTS_DROP

revision = "def456"
down_revision = "abc123"
branch_labels = None
depends_on = None


def _run(script):
    # One statement per execute, as Django's RunSQL does: the driver refuses several in a prepared statement.
    # Without its own ";": `alembic upgrade --sql` ends every statement with one already.
    for statement in sqlparse.split(script):
        if statement.strip().rstrip(";").strip():
            op.execute(statement.strip().rstrip(";"))


def upgrade():
    _run(POSTS_DDL)


def downgrade():
    _run(POSTS_DROP)
