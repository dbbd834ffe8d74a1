"""Trigram indexes behind the admin's and the API's search on the seed's tables (not part of the seed's DDL).

Django's `icontains` on PostgreSQL is `UPPER(col::text) LIKE UPPER('%term%')`, so each index is a pg_trgm GIN
index on `upper(col)`: the planner uses it for any substring of 3+ characters, in any case. Names are documented
in docs/architecture.md; the `blog_search` app's migration 0001 applies this text (an app of its own, so that
`migrate blog zero` unapplies only it).
"""

SEARCH_INDEXES = {
    "idx_posts_title_trgm": ("posts", "title"),
    "idx_users_username_trgm": ("users", "username"),
    "idx_users_email_trgm": ("users", "email"),
}

SEARCH_INDEXES_DDL = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\n" + "".join(
    f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (upper({column}) gin_trgm_ops);\n"
    for name, (table, column) in SEARCH_INDEXES.items())

# The extension stays: other objects may use it, and dropping it needs more rights than creating it.
SEARCH_INDEXES_DROP = "".join(f"DROP INDEX IF EXISTS {name};\n" for name in SEARCH_INDEXES)
