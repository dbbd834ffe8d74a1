"""Suggested indexes: which columns the top statements filter, join and sort on (parse), weighed against the
catalog and pg_stats (advise). Read-only: pgdeck only shows the CREATE INDEX CONCURRENTLY statement."""
