"""DATABASES from the environment: DATABASE_URL wins, otherwise the embedded server (local and test only)."""

from config.env import env, parse_database_url
from config.errors import ConfigError

DEFAULT_DB_NAME = "pgdeck"


def _pool_options():
    from config.db_backend.outage import mark_down
    from config.db_backend.pool_checks import mark_returned

    size = env.int("DB_POOL_SIZE", default=5)
    overflow = env.int("DB_MAX_OVERFLOW", default=10)
    return {
        "min_size": size,
        "max_size": size + overflow,
        "timeout": env.float("DB_POOL_TIMEOUT", default=30),
        "max_lifetime": env.float("DB_POOL_RECYCLE", default=3600),
        # psycopg_pool's public `reset` callback; the cheaper `check` that goes with it is set by config.db_backend
        # (Django passes its own check= itself, so it cannot go here).
        "reset": mark_returned,
        # A lost connection is retried with backoff (1, 2, 4 … s) for reconnect_timeout, then given up (the pool
        # grows again on demand): short, or the pool would still be waiting out its backoff long after an outage
        # ended. reconnect_failed marks the pool down, so requests stop waiting on it (config/db_backend/outage.py).
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=3),
        "reconnect_failed": mark_down,
    }


def _connection_options(extra):
    # application_name marks pgdeck's own backends, which monitoring refuses to cancel or terminate.
    options = {"connect_timeout": env.int("DB_CONNECT_TIMEOUT", default=5),
               "application_name": env("DB_APPLICATION_NAME", default="pgdeck")}
    sslmode = env("DB_SSLMODE", default=extra.pop("sslmode", None))
    if sslmode:
        options["sslmode"] = sslmode
    rootcert = env("DB_SSLROOTCERT", default=extra.pop("sslrootcert", None))
    if rootcert:
        options["sslrootcert"] = rootcert
    # Server-side limits for the app's own statements (0 = off): a locked table or a runaway query then ends
    # in a clear 503 instead of holding a pooled connection forever.
    limits = [f"-c {name}={env.int(variable, default=0)}" for name, variable in
              (("statement_timeout", "DB_STATEMENT_TIMEOUT"), ("lock_timeout", "DB_LOCK_TIMEOUT"))
              if env.int(variable, default=0) > 0]
    if limits:
        options["options"] = " ".join(limits)
    options.update(extra)
    if env.bool("DB_POOL", default=True) and not env.bool("DB_PGBOUNCER", default=False):
        options["pool"] = _pool_options()
    return options


def database_fields(*, allow_embedded):
    """Return (fields, source) where source says where the server came from, for messages."""
    url = env("DATABASE_URL", default="")
    if url:
        fields = parse_database_url(url)
        return fields, "DATABASE_URL"
    if not allow_embedded:
        raise ConfigError("DATABASE_URL is required with config.settings.production")
    from config.embedded import ensure_running

    fields = ensure_running(env("EMBEDDED_DB_NAME", default=DEFAULT_DB_NAME))
    fields["EXTRA"] = {}
    return fields, "embedded"


def build_databases(*, allow_embedded):
    fields, source = database_fields(allow_embedded=allow_embedded)
    extra = fields.pop("EXTRA")
    default = {
        "ENGINE": "config.db_backend",
        **fields,
        "CONN_MAX_AGE": 0,
        "OPTIONS": _connection_options(extra),
        "TEST": {"NAME": env("TEST_DATABASE_NAME", default=None)},
    }
    # Health checks on: with the pool, config.db_backend swaps Django's check-every-checkout for a cheaper one
    # (config/db_backend/pool_checks.py), so stale connections still die after a server restart.
    default["CONN_HEALTH_CHECKS"] = True
    if env.bool("DB_PGBOUNCER", default=False):
        # Transaction pooling cannot keep a named cursor open between statements.
        default["DISABLE_SERVER_SIDE_CURSORS"] = True
    databases = {"default": default}
    replica_url = env("REPLICA_DATABASE_URL", default="")
    if replica_url:
        databases["replica"] = _replica(default, replica_url)
    return databases, source


def _replica(default, url):
    """A read-only alias: the query editor (read mode), exports and monitoring reads use it; writes never do."""
    fields = parse_database_url(url, variable="REPLICA_DATABASE_URL")
    extra = fields.pop("EXTRA")
    return {**default, **fields, "OPTIONS": _connection_options(extra), "TEST": {"MIRROR": "default"}}
