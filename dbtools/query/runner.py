"""Run user SQL: every statement in one transaction on the query role's connection, logged in query_history.

One pipeline (`opened_run`) opens every run, explain and export: size check, history row, split, parameters,
a checked least-privilege session. Each statement goes to the server on its own over the extended query
protocol (one command per Parse), and after each one the boundary and the deadline are checked.
Read runs stream rows (single-row mode) and keep only the display cap, so a SELECT over millions of rows never
lands in memory; a single value over QUERY_EDITOR_MAX_VALUE_BYTES is refused from its length in the libpq
result, before Python builds it; write runs commit only when every statement succeeded.
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
from django.conf import settings
from django.db import connections
from psycopg.generators import fetch
from psycopg.pq import ExecStatus, TransactionStatus

from dbtools.query import services
from dbtools.query.boundary import check_boundary
from dbtools.query.connection import query_session, run_alias
from dbtools.query.deadline import check_deadline
from dbtools.query.errors import QueryError, error_from_pg
from dbtools.query.safety import check_params, check_size, split_statements
from dbtools.query.value_sizes import value_length

FIRST_NORMAL_OID = 16384  # oids below are built-in types, the same in every PostgreSQL database
_ROWS = (ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)
_DONE = (ExecStatus.TUPLES_OK, ExecStatus.COMMAND_OK, ExecStatus.EMPTY_QUERY)


class StreamingCursor(psycopg.Cursor):
    """Cursor.stream() that also accepts statements without rows and keeps the final result, so the column
    description of an empty result and the command tag ("UPDATE 3") stay available."""

    def _stream_fetchone_gen(self, first):
        res = yield from fetch(self._pgconn)
        if res is None:
            return None
        if res.status in _ROWS:
            _check_value_sizes(res)
            self.pgresult = res
            self._tx.set_pgresult(res, set_loaders=first)
            if first:
                self._make_row = self._make_row_maker()
            return res
        if res.status in _DONE:
            self._statusmessage = res.command_status
            if first:
                self.pgresult = res
                self._tx.set_pgresult(res)
            while (yield from fetch(self._pgconn)) is not None:
                pass
            return None
        return self._raise_for_result(res)


def _check_value_sizes(res):
    """Refuse a row holding a value over the cap, from libpq's lengths: the value is never turned into Python."""
    cap = settings.QUERY_EDITOR_MAX_VALUE_BYTES
    for row in range(res.ntuples):
        for col in range(res.nfields):
            size = value_length(res, row, col)
            if size > cap:
                name = (res.fname(col) or b"?").decode("utf-8", "replace")
                raise QueryError(
                    f"Column {name!r} holds a value of {size:,} bytes, over the editor's {cap:,}-byte limit per "
                    "value: select part of it (left(), substring()) or use Export.", code="value_too_large",
                    status=400)


MAX_RESULT_SETS = 50  # statements of one run whose rows are kept; later ones report their counts only


@dataclass
class StatementResult:
    """One statement's outcome in a run: where it is in the SQL, its columns, first rows, count and time."""

    index: int
    offset: int
    length: int
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    rows_at_least: int = 0  # rows the statement is known to have produced (a lower bound unless rows_exact)
    rows_exact: bool = True
    command: str = ""
    duration_ms: float = 0.0
    rows_omitted: bool = False


@dataclass
class RunResult:
    statements: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    row_count: int = 0
    truncated: bool = False
    rows_at_least: int = 0  # rows the statement is known to have produced (a lower bound unless rows_exact)
    rows_exact: bool = True
    duration_ms: float = 0.0
    query_id: int | None = None
    command: str = ""
    statement_count: int = 0
    mode: str = "read"


def _columns(conn, cursor):
    """Name and type of each column; types psycopg does not know (void, enums, domains…) are named by the
    server's format_type, so a column never shows a bare oid."""
    description = cursor.description or []
    columns = [{"name": col.name, "type": col.type_display} for col in description]
    unknown = [i for i, col in enumerate(description) if columns[i]["type"] == str(col.type_code)]
    if unknown:
        names = type_names(conn, [description[i].type_code for i in unknown])
        for i, name in zip(unknown, names, strict=True):
            columns[i]["type"] = name or columns[i]["type"]
    return columns


def type_names(conn, oids):
    """format_type() of type oids, on the run's own connection while its transaction is usable. A read cut at
    the display cap was cancelled: then built-in types (the same oid in every database) are named by the app's
    own connection, and the others stay unknown (None)."""
    if conn.info.transaction_status != TransactionStatus.INTRANS:
        builtin = [oid if oid < FIRST_NORMAL_OID else 0 for oid in oids]
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT CASE WHEN t.o = 0 THEN NULL ELSE pg_catalog.format_type(t.o, NULL) END FROM "
                           "pg_catalog.unnest(%s::pg_catalog.oid[]) WITH ORDINALITY AS t(o, n) ORDER BY t.n",
                           [builtin])
            return [row[0] for row in cursor.fetchall()]
    rows = conn.execute("SELECT pg_catalog.format_type(t.o, NULL) FROM pg_catalog.unnest(%s::pg_catalog.oid[]) "
                        "WITH ORDINALITY AS t(o, n) ORDER BY t.n", [list(oids)]).fetchall()
    return [row[0] for row in rows]


def _approx_size(row):
    """Bytes a row takes, roughly: only long text/bytea values matter for the display budget."""
    return sum(len(value) if isinstance(value, (str, bytes)) else 16 for value in row)


def _command_rows(command):
    last = (command or "").rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def execute_statement(conn, statement, params, *, keep=0, stop_when_full=True, budget=None):
    """Run one statement; return (columns, first `keep` rows, row count, truncated, command tag).

    A read run stops reading once the display cap is passed (psycopg cancels the rest); a write run reads to
    the end, because a cancelled statement would abort the transaction it is about to commit."""
    cursor = StreamingCursor(conn)
    query, args = (statement.bound, params) if statement.has_params else (statement.text, None)
    rows, count, truncated = [], 0, False
    budget = settings.QUERY_EDITOR_MAX_BYTES if budget is None else budget
    for row in cursor.stream(query, args):
        count += 1
        if count > keep or budget <= 0:
            truncated = bool(keep)
            if truncated and stop_when_full:
                break
            continue
        budget -= _approx_size(row)
        rows.append(row)
    command = cursor.statusmessage or ""
    if not cursor.description and not rows:
        count = _command_rows(command)
    # count includes the row past the cap that told us the result was cut (a lower bound when reading stopped)
    return _columns(conn, cursor), rows, count, truncated, command


def _run_one(conn, index, statement, params, *, keep, stop, budget):
    started = time.monotonic()
    try:
        columns, rows, count, truncated, command = execute_statement(conn, statement, params, keep=keep,
                                                                     stop_when_full=stop, budget=budget)
    except psycopg.Error as exc:
        exc.pgdeck_offset, exc.pgdeck_index = statement.offset, index
        raise
    cut = stop and truncated  # reading stopped one row past the cap
    if not (cut and conn.info.transaction_status == TransactionStatus.INERROR):
        # (a read we cut was cancelled by us: its transaction is aborted and a read run never commits)
        check_boundary(conn, command)
    return StatementResult(index=index, offset=statement.offset, length=len(statement.text), columns=columns,
                           rows=rows, row_count=len(rows) if cut else count, truncated=truncated,
                           rows_at_least=count, rows_exact=not cut, command=command,
                           duration_ms=round((time.monotonic() - started) * 1000, 2))


def run_statements(conn, statements, params, limit, mode="read"):
    """Run every statement; each keeps its first `limit` rows (the first MAX_RESULT_SETS with rows, within one
    QUERY_EDITOR_MAX_BYTES budget for the whole run). The run's own fields are the last statement's."""
    result = RunResult(statement_count=len(statements))
    budget, sets = settings.QUERY_EDITOR_MAX_BYTES, 0
    for index, statement in enumerate(statements):
        check_deadline(conn)
        room = limit if limit and budget > 0 and sets < MAX_RESULT_SETS else 0
        # Only the last statement of a read run may stop early: psycopg cancels the rest of a stream, which
        # would abort the transaction the next statements run in.
        stop = mode != "write" and index == len(statements) - 1
        one = _run_one(conn, index, statement, params, keep=room, stop=stop, budget=budget)
        one.rows_omitted = bool(limit) and not room and bool(one.columns)
        sets += 1 if one.columns else 0
        budget -= sum(_approx_size(row) for row in one.rows)
        result.statements.append(one)
    last = result.statements[-1] if result.statements else None
    if last is not None:
        result.columns, result.rows, result.row_count = last.columns, last.rows, last.row_count
        result.truncated, result.command = last.truncated, last.command
        result.rows_at_least, result.rows_exact = last.rows_at_least, last.rows_exact
    return result


def commit(conn):
    if conn.execute("COMMIT").statusmessage != "COMMIT":
        raise QueryError("The transaction could not be committed; nothing was written.", code="not_committed")


@contextmanager
def failures_recorded(entry, started):
    """Record a failed run in query_history and raise the QueryError the page and the API show."""
    try:
        yield
    except psycopg.Error as exc:
        error = error_from_pg(exc, cancelled=services.history_was_cancelled(entry),
                              position_offset=getattr(exc, "pgdeck_offset", 0))
        error.statement_index = getattr(exc, "pgdeck_index", None)
        services.history_finish(entry, status=error.history_status, started=started, error=error.history_text())
        raise error
    except QueryError as error:
        services.history_finish(entry, status=error.history_status, started=started, error=error.history_text())
        raise


def display_limit(limit):
    cap = settings.QUERY_EDITOR_MAX_ROWS
    return cap if not limit else max(1, min(int(limit), cap))


@dataclass
class OpenRun:
    conn: psycopg.Connection
    statements: list
    entry: object
    started: float
    params: dict


@contextmanager
def opened_run(*, user, sql_text, params, mode, history_mode, token="", alias="default", timeout=None):
    """The one way a run, an explain or an export starts; failures end up in query_history as QueryError."""
    services.run_authorize(user, mode=mode, history_mode=history_mode)
    check_size(sql_text)  # refused before logging: history keeps no megabyte blobs
    alias = run_alias(mode, alias)
    entry = services.history_start(user=user, sql=sql_text, mode=history_mode, token=token, alias=alias)
    started = time.monotonic()
    with failures_recorded(entry, started):
        statements = split_statements(sql_text)
        check_params(statements, params)
        with query_session(mode, alias=alias, user=user, timeout=timeout) as conn:
            services.history_set_pid(entry, conn.pgdeck_pid)
            yield OpenRun(conn, statements, entry, started, params or {})


def run_query(*, user, sql, params=None, mode="read", limit=None, token="", alias="default"):
    """Run `sql` as `user`; returns a RunResult or raises QueryError. Every attempt is in query_history."""
    mode = "write" if mode == "write" else "read"
    with opened_run(user=user, sql_text=sql, params=params, mode=mode, history_mode=mode, token=token,
                    alias=alias) as run:
        result = run_statements(run.conn, run.statements, run.params, display_limit(limit), mode)
        if mode == "write":
            check_deadline(run.conn)
            commit(run.conn)
    entry = run.entry
    services.history_finish(entry, status="success", started=run.started, row_count=result.row_count)
    result.duration_ms, result.query_id, result.mode = entry.execution_time, entry.pk, mode
    return result
