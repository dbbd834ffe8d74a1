"""THE ONLY place that turns a target + a purpose into libpq parameters, a conninfo, pg_dump's argv/env or a
SQLAlchemy URL. Every option of the target (sslmode, sslrootcert, sslcert, …) goes into every form, so no path
connects with less TLS than the target asks for.

Purposes: "app", "query-read", "query-write", "monitoring", "backup", "alembic". The target "default" is the
app's own database (settings.DATABASES, i.e. DATABASE_URL + DB_SSLMODE and friends); its query purposes keep
QUERY_DATABASE_URL / QUERY_WRITE_DATABASE_URL when set. Other targets are rows of targets.models.Target.
"""

from dataclasses import dataclass, field

import psycopg
from django.conf import settings

from config.dbcheck import direct_params
from config.env import parse_database_url
from config.errors import ConfigError
from targets.errors import TargetInvalid, TargetUnavailable

DEFAULT = "default"
PURPOSES = ("app", "query-read", "query-write", "monitoring", "backup", "alembic")
# What each purpose changes over the target's own parameters (None removes a parameter). "options" carries the
# app's -c statement_timeout/lock_timeout: right for the app, wrong for pg_dump, migrations and user SQL (the
# editor sets its own limits per run).
PURPOSE_DEFAULTS = {
    "app": {},
    "query-read": {"application_name": "pgdeck-query", "connect_timeout": 5, "options": None},
    "query-write": {"application_name": "pgdeck-query", "connect_timeout": 5, "options": None},
    "monitoring": {"application_name": "pgdeck-monitoring", "connect_timeout": 5},
    "backup": {"application_name": "pgdeck-backup", "connect_timeout": 10, "options": None},
    "alembic": {"application_name": "pgdeck-alembic", "options": None},
}
# TLS parameters a query-role URL inherits from the default target unless it sets its own.
TLS_KEYS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "sslnegotiation", "sslcertmode")
# libpq parameter → environment variable, for pg_dump / pg_restore / psql.
ENV_NAMES = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "dbname": "PGDATABASE", "user": "PGUSER",
    "password": "PGPASSWORD", "passfile": "PGPASSFILE", "options": "PGOPTIONS", "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL", "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI", "sslcompression": "PGSSLCOMPRESSION", "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcertmode": "PGSSLCERTMODE", "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "requiressl": "PGREQUIRESSL",
    "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING", "require_auth": "PGREQUIREAUTH",
    "krbsrvname": "PGKRBSRVNAME", "gsslib": "PGGSSLIB", "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS", "service": "PGSERVICE",
}
BASE_KEYS = ("host", "port", "dbname", "user", "password")


@dataclass(frozen=True)
class TargetSpec:
    name: str
    host: str
    port: str
    dbname: str
    user: str
    password: str = field(repr=False)
    options: dict = field(default_factory=dict)  # libpq options: sslmode, sslrootcert, connect_timeout, …
    environment: str = "dev"
    is_default: bool = False

    def params(self):
        base = {"host": self.host, "port": self.port, "dbname": self.dbname, "user": self.user,
                "password": self.password}
        return {k: v for k, v in {**base, **self.options}.items() if v not in (None, "")}


def _from_params(name, params, *, environment, is_default):
    options = {k: v for k, v in params.items() if k not in BASE_KEYS}
    return TargetSpec(name=name, host=params.get("host") or "", port=str(params.get("port") or ""),
                      dbname=params.get("dbname") or "", user=params.get("user") or "",
                      password=params.get("password") or "", options=options, environment=environment,
                      is_default=is_default)


def default_spec(alias=DEFAULT):
    """The app's own database (or its replica alias) as a TargetSpec."""
    params = direct_params(settings.DATABASES[alias])
    return _from_params(DEFAULT, params, environment=settings.DEFAULT_TARGET_ENVIRONMENT, is_default=True)


def model_spec(target):
    options = {"sslmode": target.sslmode, "sslrootcert": target.sslrootcert,
               "connect_timeout": settings.TARGETS_CONNECT_TIMEOUT, "application_name": "pgdeck"}
    params = {"host": target.host, "port": target.port, "dbname": target.dbname, "user": target.user,
              "password": target.password, **options}
    return _from_params(target.name, {k: v for k, v in params.items() if v not in (None, "")},
                        environment=target.environment, is_default=False)


def spec(target_or_name):
    """TargetSpec of a name, a Target row or a TargetSpec; raises TargetNotFound for an unknown name."""
    if isinstance(target_or_name, TargetSpec):
        return target_or_name
    name = target_or_name if isinstance(target_or_name, str) else getattr(target_or_name, "name", None)
    if not name or name == DEFAULT:
        return default_spec()
    if isinstance(target_or_name, str):
        from targets.selectors import target_get

        target_or_name = target_get(name)
    return model_spec(target_or_name)


def _check_purpose(purpose):
    if purpose not in PURPOSES:
        raise TargetInvalid(f"unknown connection purpose {purpose!r} (one of {', '.join(PURPOSES)})")


def _query_url_params(purpose):
    """The default target's query purposes when QUERY_DATABASE_URL / QUERY_WRITE_DATABASE_URL is set."""
    variable = "QUERY_WRITE_DATABASE_URL" if purpose == "query-write" else "QUERY_DATABASE_URL"
    url = getattr(settings, variable, "")
    if not url:
        return None
    try:
        fields = parse_database_url(url, variable=variable)
    except ConfigError as exc:
        raise TargetUnavailable(str(exc)) from None
    extra = fields.pop("EXTRA")
    inherited = {k: v for k, v in default_spec().options.items() if k in TLS_KEYS and k not in extra}
    return {"dbname": fields["NAME"], "user": fields["USER"], "password": fields["PASSWORD"],
            "host": fields["HOST"], "port": fields["PORT"], **inherited, **extra}


def query_url_configured(purpose):
    """Whether the default target's `purpose` runs over an operator-given URL (QUERY_*_DATABASE_URL)."""
    return bool(getattr(settings, "QUERY_WRITE_DATABASE_URL" if purpose == "query-write" else "QUERY_DATABASE_URL",
                        ""))


def _base_params(target, purpose, alias):
    if isinstance(target, TargetSpec):
        return target.params()
    name = target if isinstance(target, str) else getattr(target, "name", DEFAULT)
    if name != DEFAULT:
        return spec(target).params()
    if purpose in ("query-read", "query-write"):
        from_url = _query_url_params(purpose)
        if from_url is not None:
            return from_url
        role = settings.QUERY_WRITE_ROLE if purpose == "query-write" else settings.QUERY_ROLE
        return direct_params(settings.DATABASES[alias or DEFAULT], user=role, password=settings.QUERY_ROLE_PASSWORD)
    return direct_params(settings.DATABASES[alias or DEFAULT])


def connect_kwargs(target, purpose, *, alias=None, **overrides):
    """psycopg.connect() keywords for `target` used for `purpose`; `overrides` are libpq keywords (None removes
    one). `alias` picks another Django alias of the default target (the replica) for its connection."""
    _check_purpose(purpose)
    params = {**_base_params(target, purpose, alias), **PURPOSE_DEFAULTS[purpose], **overrides}
    return {k: v for k, v in params.items() if v not in (None, "")}


def conninfo(target, purpose, **overrides):
    return psycopg.conninfo.make_conninfo(**connect_kwargs(target, purpose, **overrides))


def env_for_params(params):
    """PG* environment variables carrying every libpq parameter (a TLS one that has none is an error)."""
    env = {}
    for key, value in params.items():
        if key in ENV_NAMES:
            env[ENV_NAMES[key]] = str(value)
        elif key.startswith(("ssl", "gss", "require")):
            raise TargetUnavailable(f"connection option {key!r} cannot be passed to pg_dump/psql")
    return env


def tool_args_env(target, purpose="backup", **overrides):
    """(argv fragment, env) for pg_dump / pg_restore / psql. The env alone is enough to connect (PGHOST … and the
    TLS options as PGSSLMODE/PGSSLROOTCERT…); the password is only ever in PGPASSWORD, never in argv."""
    params = connect_kwargs(target, purpose, **overrides)
    argv = []
    for key, flag in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        if params.get(key) not in (None, ""):
            argv += [flag, str(params[key])]
    return argv, env_for_params(params)


def sqlalchemy_url_from_params(params):
    """A postgresql+psycopg URL string (password included: for create_engine only, never for a log line)."""
    from sqlalchemy.engine import URL

    query = {k: str(v) for k, v in params.items() if k not in BASE_KEYS}
    host = params.get("host") or None
    if host and host.startswith("/"):
        # A Unix-socket directory cannot be a URL host: libpq takes it as the host parameter.
        query["host"], host = host, None
    port = params.get("port")
    url = URL.create("postgresql+psycopg", username=params.get("user") or None,
                     password=params.get("password") or None, host=host, port=int(port) if port else None,
                     database=params.get("dbname"), query=query)
    return url.render_as_string(hide_password=False)


def sqlalchemy_url(target, purpose="alembic", **overrides):
    return sqlalchemy_url_from_params(connect_kwargs(target, purpose, **overrides))


def settings_params(settings_dict, purpose, **overrides):
    """connect_kwargs for a Django DATABASES-style dict that is not a registered target (a scratch database in
    tests, a libpq URL given on the command line): the same rules, the same options."""
    _check_purpose(purpose)
    return direct_params(settings_dict, **{**PURPOSE_DEFAULTS[purpose], **overrides})
