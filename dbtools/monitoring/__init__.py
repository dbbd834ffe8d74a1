"""Monitoring: PgHero-style queries, admin screens, API, /metrics, snapshots (docs/monitoring.md)."""
