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


def check_connection(settings_dict, timeout=3):
    """Connect once without the pool; raise ConfigError saying host, port and PostgreSQL's reason."""
    options = {k: v for k, v in settings_dict.get("OPTIONS", {}).items() if k not in ("pool",)}
    options["connect_timeout"] = min(int(options.get("connect_timeout") or timeout), timeout)
    params = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        **options,
    }
    try:
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ConfigError(f"cannot connect to database {describe_target(settings_dict)}: {first_line(exc)}") from None
