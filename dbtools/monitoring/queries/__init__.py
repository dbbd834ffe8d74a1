"""Monitoring SQL, PgHero style: one module per topic, one function per query returning a list of dicts.

Every function goes through `queries.base.fetch_all`, which gives each query its own short statement_timeout and
lock_timeout, so a stuck catalog or a busy server can never hang a monitoring page.
"""
