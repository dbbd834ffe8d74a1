"""Shared foundation under every app: the audit trail and the paginator. Imports nothing of accounts, blog
or dbtools (enforced by import-linter, see pyproject.toml)."""
