"""The Alembic bridge: Django migrations of mirrored apps kept in step with Alembic's alembic_version table.

See docs/migrations.md. Reads live in selectors.py, writes in services.py, the migrate hooks in hooks.py.
"""
