"""Catalog helpers for tests: the product's own (dbtools.migrations_bridge.catalog), re-exported."""

from dbtools.migrations_bridge.catalog import catalog_diff, catalog_snapshot, conninfo_for, public_tables

__all__ = ["catalog_diff", "catalog_snapshot", "conninfo_for", "public_tables"]
