"""Shared foundation under every app: the audit trail, the paginators and the API toolkit (core.api). Imports
nothing of accounts, blog, dbtools or jobs (enforced by import-linter, see pyproject.toml)."""
