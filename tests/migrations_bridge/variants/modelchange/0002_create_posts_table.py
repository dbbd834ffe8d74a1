"""blog.0002 whose model state lacks Post.is_published: the models then have a change with no migration."""

from importlib import import_module

from django.db import migrations

_original = import_module("blog.migrations.0002_create_posts_table").Migration
_database_ops = _original.operations[0].database_operations
_create = _original.operations[0].state_operations[0]


class Migration(_original):
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=_database_ops,
            state_operations=[migrations.CreateModel(
                name=_create.name, fields=[f for f in _create.fields if f[0] != "is_published"],
                options={**_create.options, "indexes": [i for i in _create.options["indexes"]
                                                        if i.name != "idx_posts_is_published"]},
            )],
        ),
    ]
