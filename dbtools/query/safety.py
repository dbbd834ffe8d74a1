"""Splitting user SQL into statements, refusing transaction control, and binding named parameters.

This is not the security boundary (PostgreSQL's privileges and the READ ONLY transaction are): it keeps every
statement inside our one transaction and turns `:name` / `%(name)s` into server-side parameters.
"""

from dataclasses import dataclass, field

import sqlparse
from django.conf import settings
from sqlparse import tokens as T

from dbtools.query.errors import QueryError

TRANSACTION_KEYWORDS = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"}


@dataclass
class Statement:
    text: str  # exactly as typed (sent as is when it has no parameters, so error positions line up)
    offset: int  # character offset of `text` inside the whole input
    bound: str = ""  # text with %(name)s placeholders and literal % doubled, when it has parameters
    names: list = field(default_factory=list)

    @property
    def has_params(self):
        return bool(self.names)


def check_size(text):
    if len(text.encode("utf-8")) > settings.QUERY_MAX_SQL_BYTES:
        raise QueryError(f"The SQL is larger than {settings.QUERY_MAX_SQL_BYTES} bytes.", code="too_large", status=413)


def _meaningful(parsed):
    return [t for t in parsed.flatten() if not t.is_whitespace and t.ttype not in T.Comment
            and t.ttype not in (T.Comment.Single, T.Comment.Multiline)]


def _refuse_transaction_control(tokens):
    words = [t.value.upper() for t in tokens[:2]]
    first = words[0] if words else ""
    if first in TRANSACTION_KEYWORDS or words == ["PREPARE", "TRANSACTION"]:
        raise QueryError(
            f"{first} is not allowed: the editor runs everything in one transaction it controls "
            "(read-only runs are always rolled back; write mode commits only when every statement succeeds).",
            code="forbidden_statement", status=400)


def _bind(tokens):
    """Return (text with %(name)s placeholders and %% escapes, parameter names in order)."""
    parts, names = [], []
    for token in tokens:
        if token.ttype in T.Name.Placeholder and (token.value.startswith(":") or token.value.startswith("%(")):
            name = token.value[1:] if token.value.startswith(":") else token.value[2:-2]
            names.append(name)
            parts.append(f"%({name})s")
        else:
            parts.append(token.value.replace("%", "%%"))
    return "".join(parts), list(dict.fromkeys(names))


def split_statements(text):
    """The statements of `text` (comments-only pieces dropped); raises QueryError for empty input or
    transaction control."""
    check_size(text)
    statements, cursor = [], 0
    for piece in sqlparse.split(text):
        parsed = sqlparse.parse(piece)[0]
        tokens = _meaningful(parsed)
        if not tokens or all(t.ttype in T.Punctuation for t in tokens):
            continue
        _refuse_transaction_control(tokens)
        offset = text.find(piece, cursor)
        offset = cursor if offset < 0 else offset
        cursor = offset + len(piece)
        bound, names = _bind(list(parsed.flatten()))
        statements.append(Statement(text=piece, offset=offset, bound=bound, names=names))
    if not statements:
        raise QueryError("There is no SQL to run.", code="empty", status=400)
    return statements


def parameter_names(text):
    """Named parameters used anywhere in `text`, in order of first use."""
    try:
        statements = split_statements(text)
    except QueryError:
        return []
    return list(dict.fromkeys(name for statement in statements for name in statement.names))


def check_params(statements, params):
    missing = [name for s in statements for name in s.names if name not in (params or {})]
    if missing:
        missing = list(dict.fromkeys(missing))
        raise QueryError(f"Missing value for parameter(s): {', '.join(missing)}.", code="missing_parameters",
                         status=400, detail="", hint="Fill in every :name / %(name)s parameter.")
