"""SQLAlchemy URLs (psycopg 3 driver) for the same database Django uses; no Django setup needed at import.

Built by the connection seam (targets/seam.py), so every libpq option (sslmode, sslrootcert, …) is in the URL.
"""

from config.env import parse_database_url
from targets import seam


def sqlalchemy_url_from_fields(fields, extra=None):
    """A postgresql+psycopg URL from Django-style fields (NAME, USER, PASSWORD, HOST, PORT, OPTIONS)."""
    options = {**(fields.get("OPTIONS") or {}), **(extra or {})}
    return seam.sqlalchemy_url_from_params(seam.settings_params({**fields, "OPTIONS": options}, "alembic"))


def sqlalchemy_url_from_libpq_url(url):
    """postgresql://user:pw@host:port/db?host=/socket → the psycopg 3 SQLAlchemy URL; ConfigError if not PostgreSQL."""
    fields = parse_database_url(url, variable="the database URL")
    return sqlalchemy_url_from_fields(fields, fields.pop("EXTRA"))
