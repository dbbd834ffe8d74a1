from importlib import import_module


class Migration(import_module("blog.migrations.0002_create_posts_table").Migration):
    alembic_revision = "abc123"
