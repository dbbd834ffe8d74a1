"""pg_trgm GIN indexes for substring search on the seed's `posts.title`, `users.username` and `users.email`.

They live in their own app, not in blog's migrations: blog's chain is mirrored one-to-one by the Alembic revisions
that create the seed's schema (docs/migrations.md), and these indexes are pgdeck's own addition on top of it. Nor
in dbtools': a downgrade of blog would then unapply every later dbtools migration too. Django's model
state does not list them (RunSQL only), so the seed's models stay exactly the seed's DDL.
"""

from django.db import migrations

from blog.search_schema import SEARCH_INDEXES_DDL, SEARCH_INDEXES_DROP


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0002_create_posts_table"),
    ]

    operations = [migrations.RunSQL(SEARCH_INDEXES_DDL, SEARCH_INDEXES_DROP)]
