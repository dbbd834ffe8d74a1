"""pgdeck's trigram indexes on the seed's tables, as an app of their own (label `blog_search`).

Their migration depends on blog's and on nothing of dbtools, so a downgrade of blog (Django or Alembic through the
bridge) unapplies only these indexes, and dbtools' own migrations never sit behind the seed's chain.
"""
