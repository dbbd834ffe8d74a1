"""Streamed CSV / JSON exports straight from `COPY (…) TO STDOUT` on the query role's READ ONLY connection.

Memory stays flat: PostgreSQL sends one row per CopyData message and we hand ~64 KB chunks to the response.
The statement is checked with EXPLAIN first, so bad SQL is a clear error before the first byte is sent.
"""

import time
from contextlib import ExitStack

import psycopg
from django.conf import settings
from django.utils import timezone
from psycopg import sql
from psycopg.pq import TransactionStatus

from dbtools.query import services
from dbtools.query.connection import query_session, server_pid
from dbtools.query.errors import QueryError, error_from_pg
from dbtools.query.safety import check_params, check_size, split_statements

CHUNK_BYTES = 64 * 1024
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json", "ndjson": "application/x-ndjson"}


def export_filename(fmt):
    extension = "json" if fmt == "json" else fmt
    return f"query-{timezone.now():%Y%m%d-%H%M%S}.{extension}"


def _copy_sql(text, fmt):
    inner = sql.SQL(text.rstrip().rstrip(";"))
    if fmt == "csv":
        return sql.SQL("COPY (\n{}\n) TO STDOUT WITH (FORMAT csv, HEADER)").format(inner)
    return sql.SQL("COPY (SELECT row_to_json(q) FROM (\n{}\n) q) TO STDOUT").format(inner)


def _literal_text(conn, statement, params):
    """COPY takes no bind parameters: merge them client-side with psycopg's quoting."""
    if not statement.has_params:
        return statement.text
    return psycopg.ClientCursor(conn).mogrify(statement.bound, params)


class Export:
    """Prepared in the request (errors raise QueryError before streaming); iterate to stream the bytes."""

    def __init__(self, *, user, sql_text, fmt="csv", params=None, alias="default"):
        if fmt not in FORMATS:
            raise QueryError(f"Unknown export format {fmt!r}: use csv, json or ndjson.", code="invalid")
        self.fmt, self.rows = fmt, 0
        self.content_type, self.filename = FORMATS[fmt], export_filename(fmt)
        check_size(sql_text)  # refused before logging: history keeps no megabyte blobs
        self.entry = services.history_start(user=user, sql=sql_text, mode="export", alias=alias)
        self.started = time.monotonic()
        self._stack = ExitStack()
        try:
            statements = split_statements(sql_text)
            check_params(statements, params)
            if len(statements) != 1:
                raise QueryError("Export needs exactly one SELECT statement.", code="invalid")
            self.conn = self._stack.enter_context(query_session("read", timeout=settings.QUERY_EXPORT_TIMEOUT,
                                                                alias=alias))
            services.history_set_pid(self.entry, server_pid(self.conn))
            text = _literal_text(self.conn, statements[0], params or {})
            self.conn.execute(sql.SQL("EXPLAIN {}").format(sql.SQL(text.rstrip().rstrip(";"))))
            self.copy_sql = _copy_sql(text, fmt)
        except psycopg.Error as exc:
            self._fail(error_from_pg(exc))
        except QueryError as error:
            self._fail(error)

    def _fail(self, error):
        self._stack.close()
        services.history_finish(self.entry, status=error.history_status, started=self.started,
                                error=error.history_text())
        raise error

    def __iter__(self):
        status, error = "error", "export interrupted (client gone?)"
        try:
            yield from self._chunks()
            status, error = "success", ""
        except psycopg.Error as exc:
            problem = error_from_pg(exc, cancelled=services.history_was_cancelled(self.entry))
            status, error = problem.history_status, problem.history_text()
            yield f"\n-- export failed: {problem.message}\n".encode()
        finally:
            self._close()
            services.history_finish(self.entry, status=status, started=self.started, row_count=self.rows,
                                    error=error)

    def _close(self):
        if self.conn.info.transaction_status == TransactionStatus.ACTIVE:
            self.conn.cancel_safe()  # the client went away mid-COPY: stop the server side too
        self._stack.close()

    def _chunks(self):
        opening, separator, closing = {"json": (b"[\n", b",\n", b"\n]\n"), "ndjson": (b"", b"\n", b"\n"),
                                       "csv": (b"", b"", b"")}[self.fmt]
        buffer, size = [opening], len(opening)
        with self.conn.cursor().copy(self.copy_sql) as copy:
            for data in copy:
                data = bytes(data)
                if self.fmt == "csv":
                    buffer.append(data)
                else:  # text COPY doubles JSON's backslashes; row_to_json emits no other escapes
                    data = data.rstrip(b"\n").replace(b"\\\\", b"\\")
                    buffer.append(data if not self.rows else separator + data)
                size += len(data)
                self.rows += 1
                if size >= CHUNK_BYTES:
                    yield b"".join(buffer)
                    buffer, size = [], 0
        if self.fmt == "csv":
            self.rows = max(self.rows - 1, 0)  # the header line
        buffer.append(closing if self.fmt == "json" or self.rows else b"")
        yield b"".join(buffer)
