"""pg_stat_statements over time: snapshots stored as deltas (services), windows and series (selectors)."""
