"""Create the seed's `posts` table (Alembic revision def456), FK ON DELETE CASCADE enforced by PostgreSQL."""

import django.db.models.deletion
from django.db import migrations, models

import blog.fields
from blog.seed_schema import POSTS_DDL, POSTS_DROP


class Migration(migrations.Migration):
    alembic_revision = "def456"

    dependencies = [("blog", "0001_create_users_table")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(POSTS_DDL, POSTS_DROP)],
            state_operations=[
                migrations.CreateModel(
                    name="Post",
                    fields=[
                        ("id", models.AutoField(primary_key=True, serialize=False)),
                        ("title", models.CharField(max_length=200)),
                        ("content", models.TextField()),
                        ("is_published", models.BooleanField(db_default=False, default=False, null=True)),
                        ("created_at", blog.fields.UTCTimestampField(
                            db_default=blog.fields.CurrentTimestamp(), editable=False, null=True)),
                        ("updated_at", blog.fields.UTCTimestampField(
                            db_default=blog.fields.CurrentTimestamp(), editable=False, null=True)),
                        ("user", models.ForeignKey(
                            db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="posts",
                            to="blog.bloguser")),
                    ],
                    options={
                        "db_table": "posts",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(fields=["user"], name="idx_posts_user_id"),
                            models.Index(fields=["is_published"], name="idx_posts_is_published"),
                        ],
                    },
                ),
            ],
        ),
    ]
