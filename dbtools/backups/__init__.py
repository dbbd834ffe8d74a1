"""Backups and restores: pg_dump/pg_restore driven from Python, verified by restoring into a scratch database."""
