"""Joins the main line (0007_workspace_tabs, after 0005_blog_search_indexes) and 0006_pertarget_targets (see
0006): no operations, so a blog downgrade that unapplies it loses nothing."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dbtools", "0007_workspace_tabs"),
        ("dbtools", "0006_pertarget_targets"),
    ]

    operations = []
