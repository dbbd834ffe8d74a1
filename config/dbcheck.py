"""Pre-flight check of the configured database, turning connection failures into one readable line."""

import psycopg

from config.errors import ConfigError


def describe_target(fields):
    host = fields.get("HOST") or "localhost"
    port = fields.get("PORT") or "5432"
    if host.startswith("/"):
        return f"{fields.get('NAME')} via socket {host}"
    return f"{fields.get('NAME')} on {host}:{port}"


def first_line(exc):
    """libpq's reason without its framing: 'Connection refused', 'database "x" does not exist', …"""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return exc.__class__.__name__
    reason = lines[0].rsplit("failed: ", 1)[-1]
    for prefix in ("FATAL:", "ERROR:"):
        if reason.startswith(prefix):
            reason = reason[len(prefix):].strip()
    return reason


# OPTIONS keys that Django's backend consumes itself; libpq would reject them.
DJANGO_ONLY_OPTIONS = ("pool", "isolation_level", "server_side_binding", "assume_role")


def direct_params(settings_dict, **overrides):
    """psycopg.connect() keywords for one connection of our own, outside the pool, from a DATABASES entry."""
    options = {k: v for k, v in settings_dict.get("OPTIONS", {}).items() if k not in DJANGO_ONLY_OPTIONS}
    params = {"dbname": settings_dict["NAME"], "user": settings_dict.get("USER"),
              "password": settings_dict.get("PASSWORD"), "host": settings_dict.get("HOST"),
              "port": settings_dict.get("PORT"), **options, **overrides}
    return {k: v for k, v in params.items() if v not in (None, "")}


def check_connection(settings_dict, timeout=3):
    """Connect once without the pool; raise ConfigError saying host, port and PostgreSQL's reason."""
    configured = settings_dict.get("OPTIONS", {}).get("connect_timeout")
    params = direct_params(settings_dict, connect_timeout=min(int(configured or timeout), timeout))
    try:
        with psycopg.connect(**params) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ConfigError(f"cannot connect to database {describe_target(settings_dict)}: {first_line(exc)}") from None
