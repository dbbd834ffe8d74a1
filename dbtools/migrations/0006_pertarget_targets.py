"""The target (targets.Target.name) each history row, saved query, backup and audit event concerns (issue 14).

It depends on 0004, not on 0005_blog_search_indexes: 0005 depends on blog's migrations, so anything after it is
unapplied by a blog downgrade (`alembic downgrade base`), which would drop these columns and count their rows as
data loss. 0007_pertarget_merge joins the two branches and has no operations.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dbtools', '0004_statement_history'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='db_target',
            field=models.CharField(blank=True, db_default='', db_index=True, default='', max_length=100),
        ),
        migrations.AddField(
            model_name='backup',
            name='target',
            field=models.CharField(db_default='default', db_index=True, default='default', help_text='the registered target the dump was taken from', max_length=100),
        ),
        migrations.AddField(
            model_name='queryhistory',
            name='target',
            field=models.CharField(db_default='default', db_index=True, default='default', max_length=100),
        ),
        migrations.AddField(
            model_name='savedquery',
            name='target',
            field=models.CharField(db_default='default', default='default', help_text='the target it runs on by default', max_length=100),
        ),
    ]
