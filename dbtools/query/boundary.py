"""The transaction boundary, checked by the server's own answers after every user statement.

Whatever the parser thought a statement was, the server tells us what it did: the command tag ("COMMIT",
"ROLLBACK", "PREPARE TRANSACTION" …) and the transaction status of the ReadyForQuery message. Both are free (no
round trip). A statement whose tag is not a plain query gets one more check on the server: still the run's own
transaction (a token set LOCAL at its start) and, in read mode, still READ ONLY. On any change the run stops, the
connection is closed (so the server rolls back) and a prepared transaction it left behind is rolled back.
"""

import logging

import psycopg
from django.db import connections
from psycopg import sql
from psycopg.pq import TransactionStatus

from config.dbcheck import direct_params
from dbtools.query.errors import QueryError

logger = logging.getLogger("pgdeck.query")

# Tags of statements that cannot end or change the transaction they run in.
PLAIN_TAGS = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "FETCH", "COPY", "EXPLAIN", "SHOW", "VALUES",
              "TABLE", "MOVE", "DECLARE", "CLOSE", "CALL", "DO"}
ESCAPE_TAGS = {"BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PREPARE TRANSACTION",
               "COMMIT PREPARED", "ROLLBACK PREPARED", "END", "ABORT"}
RUN_TOKEN_SETTING = "pgdeck.run_token"


class BoundaryBreach(QueryError):
    pass


def _tag(command):
    words = (command or "").split()
    two = " ".join(words[:2]).upper()
    return two if two in ESCAPE_TAGS else (words[0].upper() if words else "")


def _server_state(conn):
    row = conn.execute("SELECT current_setting(%s, true), current_setting('transaction_read_only')",
                       [RUN_TOKEN_SETTING]).fetchone()
    return row[0], row[1] == "on"


def check_boundary(conn, command):
    """Raise BoundaryBreach (after closing the connection) when `command` left the run's transaction."""
    tag = _tag(command)
    reason = ""
    if conn.info.transaction_status != TransactionStatus.INTRANS:
        reason = f"the transaction ended ({tag or 'unknown statement'})"
    elif tag in ESCAPE_TAGS:
        reason = f"{tag} changed the transaction"
    elif tag not in PLAIN_TAGS:
        token, read_only = _server_state(conn)
        if token != getattr(conn, "pgdeck_run_token", None):
            reason = f"{tag} left the run's transaction"
        elif getattr(conn, "pgdeck_mode", "read") != "write" and not read_only:
            reason = f"{tag} made the transaction read-write"
    if reason:
        breach(conn, reason)


def breach(conn, reason):
    pid, role = getattr(conn, "pgdeck_pid", None), conn.info.user
    conn.close()  # the server rolls back whatever is still open; never reused
    _rollback_prepared(role)
    logger.warning("query run stopped: %s (backend %s, role %s)", reason, pid, role)
    raise BoundaryBreach(
        f"Stopped: {reason}. The editor runs every statement inside one transaction it controls; nothing was "
        "committed by this run.", code="transaction_escape", status=400)


def _rollback_prepared(role):
    """A PREPARE TRANSACTION survives the connection: roll back every prepared transaction of the query role."""
    db = connections["default"].settings_dict
    try:
        with psycopg.connect(autocommit=True, **direct_params(db, connect_timeout=5)) as admin:
            gids = admin.execute("SELECT gid FROM pg_prepared_xacts WHERE owner = %s AND database = "
                                 "current_database()", [role]).fetchall()
            for (gid,) in gids:
                admin.execute(sql.SQL("ROLLBACK PREPARED {}").format(sql.Literal(gid)))
    except psycopg.Error:
        logger.exception("could not check prepared transactions of %s", role)

