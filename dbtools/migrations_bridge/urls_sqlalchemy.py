"""SQLAlchemy URLs (psycopg 3 driver) for the same database Django uses; no Django import at module level."""

from sqlalchemy.engine import URL

from config.env import parse_database_url


def sqlalchemy_url_from_fields(fields, extra=None):
    """A postgresql+psycopg URL from Django-style fields (NAME, USER, PASSWORD, HOST, PORT)."""
    host = fields.get("HOST") or None
    query = dict(extra or {})
    if host and host.startswith("/"):
        # A Unix-socket directory cannot be a URL host: libpq takes it as the host parameter.
        query["host"], host = host, None
    port = fields.get("PORT")
    return URL.create(
        "postgresql+psycopg", username=fields.get("USER") or None, password=fields.get("PASSWORD") or None,
        host=host, port=int(port) if port else None, database=fields["NAME"], query=query,
    )


def sqlalchemy_url_from_libpq_url(url):
    """postgresql://user:pw@host:port/db?host=/socket → the psycopg 3 SQLAlchemy URL; ConfigError if not PostgreSQL."""
    fields = parse_database_url(url, variable="the database URL")
    return sqlalchemy_url_from_fields(fields, fields.pop("EXTRA"))
