"""Which database a target really is, in the server's own words: two targets with other host names (an IP and a
DNS name, a socket and TCP) can be one database, and a replica or a clone made from a base backup shares the
system identifier of its primary while being another server.

identity = pg_control_system().system_identifier + current_database() + pg_postmaster_start_time(): the first
names the cluster lineage, the second the database in it, the third the running server (a standby or a promoted
clone has a postmaster of its own). It is read over the target's own connection, stored on the target when it
is tested, created or changed, and read again live before two targets are called the same (a restart changes
the start time).
"""

import psycopg
from django.conf import settings
from django.db import connection

from targets import seam
from targets.errors import TargetError

IDENTITY_SQL = ("SELECT (pg_control_system()).system_identifier::text, current_database(),"
                " pg_postmaster_start_time()::text")
KEYS = ("system_identifier", "database", "started")


def read(conn):
    """The identity of the database `conn` is connected to (a psycopg connection or a DB-API cursor's owner)."""
    row = conn.execute(IDENTITY_SQL).fetchone()
    return dict(zip(KEYS, row, strict=True))


def of_default():
    """The app's own database, over its own connection."""
    with connection.cursor() as cursor:
        cursor.execute(IDENTITY_SQL)
        return dict(zip(KEYS, cursor.fetchone(), strict=True))


def of_target(target):
    """The identity of a target over its monitoring connection, or None when it cannot be reached."""
    if seam.spec(target).is_default:
        return of_default()
    try:
        params = seam.connect_kwargs(target, "monitoring", connect_timeout=settings.TARGETS_CONNECT_TIMEOUT)
        with psycopg.connect(autocommit=True, **params) as conn:
            return read(conn)
    except (psycopg.Error, TargetError, UnicodeError, ValueError, OSError):
        return None  # unreachable, or a host libpq cannot even look up (idna): nothing to compare


def same(a, b):
    return bool(a and b) and all(a.get(key) == b.get(key) for key in KEYS)


def label(identity):
    return f"system identifier {identity['system_identifier']}, database {identity['database']!r}"


def duplicates(name, identity):
    """Names of the other targets ("default" included) that are the same database as `identity`. Stored
    identities only nominate candidates (same cluster lineage and database name); each is read again live, so a
    restart since it was stored does not hide it, and a replica of the same lineage is not taken for it."""
    from targets.models import DEFAULT, Target

    if not identity:
        return []
    found = []
    if name != DEFAULT and same(identity, of_default()):
        found.append(DEFAULT)
    candidates = Target.objects.exclude(name=name).filter(
        identity__system_identifier=identity["system_identifier"], identity__database=identity["database"])
    for target in candidates:
        live = of_target(target) or target.identity
        if same(identity, live):
            found.append(target.name)
    return found


def stored_duplicates(target, default_identity=None):
    """The other targets whose stored identity is this target's (no connection to the targets: lists and the
    API's answers); "default" compared with the app's own database, read live (or `default_identity`)."""
    from targets.models import Target

    default_identity = default_identity or of_default()
    mine = default_identity if target.is_default else target.identity
    if not mine:
        return []
    names = list(Target.objects.exclude(name=target.name).filter(identity=mine).values_list("name", flat=True))
    return ([] if target.is_default or not same(mine, default_identity) else ["default"]) + names
