"""The one place the process environment is read.

Settings modules import `env` and the helpers below; nothing else calls os.environ for configuration.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import environ

from config.errors import ConfigError

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's .env is optional; real environment variables always win over it.
_env_file = BASE_DIR / ".env"
if _env_file.is_file():
    environ.Env.read_env(str(_env_file), overwrite=False)

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgresql+psycopg"}


def parse_database_url(url, *, variable="DATABASE_URL"):
    """Turn a postgresql:// URL into Django's connection fields, refusing anything that is not PostgreSQL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{variable} is malformed ({exc}); expected postgresql://user:password@host:port/dbname")
    scheme = parts.scheme.lower()
    if not scheme:
        raise ConfigError(f"{variable} is malformed: expected postgresql://user:password@host:port/dbname")
    if scheme not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"{variable} uses '{scheme}://': pgdeck runs on PostgreSQL only (postgresql://user:password@host:port/dbname)"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ConfigError(f"{variable} names no database: add it after the host, e.g. postgresql://host:5432/mydb")
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    return {
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(query.pop("host", parts.hostname or "")),
        "PORT": str(port or ""),
        "EXTRA": query,
    }
