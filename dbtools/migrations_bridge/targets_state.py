"""alembic_version on any registered target, read-only: which revision each database is at, compared with the
revisions pgdeck's own Alembic scripts know (a target may run another project's history: "unknown" then)."""

from dataclasses import asdict, dataclass, field

import psycopg

from config.dbcheck import first_line
from dbtools.migrations_bridge import scripts
from dbtools.migrations_bridge.version_table import VERSION_TABLE, table_exists, version_rows
from dbtools.targeting import TARGET_ERROR_TYPES, target_error
from targets import seam

CONNECT_TIMEOUT = 5


class AlembicTargetError(Exception):
    def __init__(self, message, *, status=424, code="target_unavailable"):
        super().__init__(message)
        self.status, self.code = status, code


@dataclass
class AlembicTargetState:
    target: str
    table: bool  # alembic_version exists
    versions: list = field(default_factory=list)
    current: str | None = None
    known: bool | None = None  # current is one of pgdeck's Alembic revisions (None: no current revision)
    head: str | None = None  # the head of pgdeck's Alembic scripts
    at_head: bool = False
    message: str = ""

    def as_dict(self):
        return asdict(self)


def _read(target):
    try:
        params = {"connect_timeout": CONNECT_TIMEOUT, **seam.connect_kwargs(target, "alembic")}
    except TARGET_ERROR_TYPES as exc:
        status, code, message = target_error(exc)
        raise AlembicTargetError(message, status=status, code=code) from None
    try:
        with psycopg.connect(autocommit=True, **params) as conn:
            conn.execute("SET default_transaction_read_only = on")
            return table_exists(conn), version_rows(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise AlembicTargetError(f"The credential of target {target!r} may not read {VERSION_TABLE}: "
                                 f"{first_line(exc)}", status=403, code="target_privileges") from None
    except psycopg.Error as exc:
        raise AlembicTargetError(f"Target {target!r} cannot be reached: {first_line(exc)}") from None


def alembic_target_state(target):
    """The alembic_version state of `target` (authorised by the caller); AlembicTargetError when unreadable."""
    exists, versions = _read(target)
    heads = scripts.script_heads()
    head = heads[0] if len(heads) == 1 else None
    current = versions[0] if len(versions) == 1 else None
    state = AlembicTargetState(target=target, table=exists, versions=versions, current=current, head=head,
                               known=(current in scripts.script_revisions()) if current else None,
                               at_head=bool(current and current == head))
    if not exists:
        state.message = f"No {VERSION_TABLE} table: Alembic never ran on this database."
    elif len(versions) > 1:
        state.message = f"{VERSION_TABLE} has {len(versions)} rows ({', '.join(versions)})."
    elif not versions:
        state.message = f"{VERSION_TABLE} is empty (base)."
    elif not state.known:
        state.message = f"Revision {current!r} is not one of pgdeck's Alembic scripts (another project's history?)."
    return state
