"""One error type for everything a run can end with; the admin shows it, the API maps it to a status."""

from psycopg import errors as pg_errors

# sqlstate → (code, HTTP status, history status)
_SQLSTATE_CODES = {
    "42601": ("syntax_error", 400),
    "25006": ("read_only", 403),
    "42501": ("permission_denied", 403),
    "55P03": ("lock_timeout", 400),
    "25P03": ("idle_timeout", 400),
}


class QueryError(Exception):
    """A run that did not succeed. `code` is the API error code; `history_status` what query_history records."""

    def __init__(self, message, *, code="sql_error", status=400, sqlstate="", detail="", hint="", position=None,
                 history_status="error"):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.sqlstate = sqlstate or ""
        self.detail = detail or ""
        self.hint = hint or ""
        self.position = position
        self.history_status = history_status

    def as_dict(self):
        return {"sqlstate": self.sqlstate or None, "message": self.message, "detail": self.detail or None,
                "hint": self.hint or None, "position": self.position}

    def history_text(self):
        lines = [f"{self.sqlstate}: {self.message}" if self.sqlstate else self.message]
        lines += [f"DETAIL: {self.detail}"] if self.detail else []
        lines += [f"HINT: {self.hint}"] if self.hint else []
        return "\n".join(lines)


def error_from_pg(exc, *, cancelled=False, position_offset=0):
    """Turn a psycopg error into a QueryError; 57014 is a cancel when the user asked for one, else a timeout."""
    diag = getattr(exc, "diag", None)
    sqlstate = getattr(exc, "sqlstate", None) or ""
    message = (diag.message_primary if diag else None) or str(exc).strip() or exc.__class__.__name__
    fields = {"sqlstate": sqlstate, "detail": diag.message_detail if diag else "",
              "hint": diag.message_hint if diag else ""}
    position = diag.statement_position if diag else None
    if position:
        fields["position"] = int(position) + position_offset
    if isinstance(exc, pg_errors.QueryCanceled):
        if cancelled or "user request" in message:
            return QueryError("The query was cancelled.", code="cancelled", status=409, history_status="cancelled",
                              **fields)
        return QueryError(f"{message} (limit: the editor's statement timeout).", code="statement_timeout",
                          status=400, history_status="timeout", **fields)
    if not sqlstate and "COPY" in message:  # psycopg refuses COPY … TO STDOUT/FROM STDIN outside copy()
        message = "COPY … TO STDOUT / FROM STDIN cannot run in the editor; use Export CSV / JSON instead."
    code, status = _SQLSTATE_CODES.get(sqlstate, ("sql_error", 400))
    if sqlstate.startswith("42") and code == "sql_error":
        code = "syntax_error" if sqlstate == "42601" else "sql_error"
    return QueryError(message, code=code, status=status, **fields)
