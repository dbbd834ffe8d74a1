"""Changes the seed's schema, then fails: PostgreSQL must roll the change back (transactional DDL)."""

from django.db import migrations


class Migration(migrations.Migration):
    alembic_revision = "bad001"

    dependencies = [("blog", "0002_create_posts_table")]

    operations = [
        migrations.RunSQL("ALTER TABLE posts ADD COLUMN half_done integer", migrations.RunSQL.noop),
        migrations.RunSQL("CREATE INDEX idx_half_done ON posts(half_done)", migrations.RunSQL.noop),
        migrations.RunSQL("SELECT 1 / 0", migrations.RunSQL.noop),
    ]
