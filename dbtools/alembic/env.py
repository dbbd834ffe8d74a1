"""Alembic's env.py for pgdeck: the same database as Django, unless told otherwise.

Where the URL comes from, first match wins:
1. `alembic -x dburl=postgresql://user@host:port/db ...` (a libpq URL; `?host=/socket/dir` for a Unix socket),
2. the ALEMBIC_DATABASE_URL environment variable (same form),
3. pgdeck's Django settings: DATABASES["default"] of DJANGO_SETTINGS_MODULE (default config.settings.local),
   i.e. DATABASE_URL or the embedded PostgreSQL.

Each revision applied is logged in migrations_log when that table exists (`-x user=NAME` names who ran it).

upgrade, downgrade and stamp first take pgdeck's migration lock (dbtools/migrations_bridge/lock.py: the advisory
lock `manage.py migrate` and `manage.py alembic` take too) inside their transaction, waiting up to
MIGRATION_LOCK_TIMEOUT seconds (`-x lock_timeout=N`); Alembic reads alembic_version only once it holds it.
"""

import os
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import OperationalError

from dbtools.migrations_bridge import lock
from dbtools.migrations_bridge.alembic_log import WRITE_COMMANDS, CliLog, cli_user
from dbtools.migrations_bridge.urls_sqlalchemy import sqlalchemy_url_from_libpq_url

if context.config.config_file_name:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)


def setup_django():
    import django
    from django.apps import apps

    if apps.ready:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    if context.config.config_file_name:  # django.setup() applied Django's LOGGING: keep Alembic's own output
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)


def database_url():
    url = context.get_x_argument(as_dictionary=True).get("dburl") or os.environ.get("ALEMBIC_DATABASE_URL")
    if url:
        return sqlalchemy_url_from_libpq_url(url)
    setup_django()
    from targets.seam import sqlalchemy_url

    return sqlalchemy_url("default", "alembic")


def target_metadata():
    """The Django models of the mirrored apps, for `alembic check` and `alembic revision --autogenerate` (only
    those commands set Django up for it; upgrade/downgrade stay Django-free with -x dburl)."""
    if _command()[0] not in ("check", "revision"):
        return None
    setup_django()
    from dbtools.migrations_bridge.metadata import bridged_metadata

    return bridged_metadata()


def run_migrations_offline():
    context.configure(url=database_url(), target_metadata=None, literal_binds=True)
    with context.begin_transaction():
        if _command()[0] in WRITE_COMMANDS:  # the script takes pgdeck's migration lock too, wherever it runs
            context.execute(lock.LOCK_SQL)
        context.run_migrations()


def _command():
    """(action, target revision) of this CLI run, for the failure's log row."""
    options = context.config.cmd_opts
    name = getattr(getattr(options, "cmd", (None,))[0], "__name__", "") if options else ""
    return name, getattr(options, "revision", "")


def take_lock(connection, cli_log):
    """The migration lock, in this run's transaction; then where alembic_version stands (for the failure row)."""
    seconds = lock.timeout_seconds(context.get_x_argument(as_dictionary=True).get("lock_timeout"))
    try:
        for statement in lock.lock_statements(seconds):
            connection.execute(text(statement))
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", "") == lock.LOCK_NOT_AVAILABLE:
            raise CommandError(lock.busy_message(seconds)) from None
        raise
    cli_log.position = sorted(context.get_context().get_current_heads())


def _compare_options(metadata):
    if metadata is None:
        return {}
    from dbtools.migrations_bridge.metadata import include_object

    include = include_object(metadata)
    return {"include_object": include,
            "include_name": lambda name, type_, parents: type_ != "table" or include(None, name, "table", True, None)}


def run_migrations_online():
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    cli_log = CliLog(cli_user(context.get_x_argument(as_dictionary=True)))
    action, target = _command()
    try:
        with engine.connect() as connection:
            metadata = target_metadata()
            context.configure(connection=connection, target_metadata=metadata, transactional_ddl=True,
                              on_version_apply=cli_log.on_version_apply, compare_type=True,
                              **_compare_options(metadata))
            with context.begin_transaction():
                if action in WRITE_COMMANDS:
                    take_lock(connection, cli_log)
                context.run_migrations()
    except Exception as exc:
        cli_log.failed(engine, action, cli_log.failed_revision(context.script, action, target), exc)
        raise
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
