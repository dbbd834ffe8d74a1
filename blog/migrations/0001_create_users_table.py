"""Create the seed's `users` table (Alembic revision abc123).

The database gets the seed's DDL verbatim; Django's state gets the matching model.
"""

from django.db import migrations, models

import blog.fields
from blog.seed_schema import USERS_DDL, USERS_DROP


class Migration(migrations.Migration):
    initial = True
    alembic_revision = "abc123"

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(USERS_DDL, USERS_DROP)],
            state_operations=[
                migrations.CreateModel(
                    name="BlogUser",
                    fields=[
                        ("id", models.AutoField(primary_key=True, serialize=False)),
                        ("username", models.CharField(max_length=50)),
                        ("email", models.EmailField(max_length=100)),
                        ("is_active", models.BooleanField(db_default=True, default=True, null=True)),
                        ("created_at", blog.fields.UTCTimestampField(
                            db_default=blog.fields.CurrentTimestamp(), editable=False, null=True)),
                        ("updated_at", blog.fields.UTCTimestampField(
                            db_default=blog.fields.CurrentTimestamp(), editable=False, null=True)),
                    ],
                    options={
                        "verbose_name": "user",
                        "db_table": "users",
                        "ordering": ["-id"],
                        "indexes": [
                            models.Index(fields=["username"], name="idx_users_username"),
                            models.Index(fields=["email"], name="idx_users_email"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("username",), name="users_username_key"),
                            models.UniqueConstraint(fields=("email",), name="users_email_key"),
                        ],
                    },
                ),
            ],
        ),
    ]
