"""Splitting user SQL into statements, classifying them, and binding named parameters.

Statement boundaries and kinds come from PostgreSQL's own lexer and parser (pglast, i.e. libpg_query), so
nested comments, `E''` / `U&''` / `$tag$` strings and backslashes are read the way the server reads them.
This is still only a classifier, never the guard: every statement is sent on its own over the extended query
protocol (the server refuses two commands in one Parse), and the runner checks after each statement that the
connection is still inside the run's own transaction (dbtools.query.boundary).
"""

from dataclasses import dataclass, field

from django.conf import settings
from pglast import parser as pg_parser
from pglast.parser import ParseError

from dbtools.query.errors import QueryError

# First keywords (as the server's lexer names them) of statements that end or split the run's transaction.
TRANSACTION_TOKENS = {"BEGIN_P", "START", "COMMIT", "END_P", "ROLLBACK", "ABORT_P", "SAVEPOINT", "RELEASE"}
COMMENT_TOKENS = {"C_COMMENT", "SQL_COMMENT"}
SEMICOLON, COLON, PERCENT, LPAREN, RPAREN = "ASCII_59", "ASCII_58", "ASCII_37", "ASCII_40", "ASCII_41"
# Token kinds that may follow `:` in a :name parameter (identifiers and unreserved/column-name keywords).
NAME_KINDS = {"NO_KEYWORD", "UNRESERVED_KEYWORD", "COL_NAME_KEYWORD", "TYPE_FUNC_NAME_KEYWORD"}


@dataclass
class Statement:
    text: str  # exactly as typed (sent as is when it has no parameters, so error positions line up)
    offset: int  # character offset of `text` inside the whole input
    bound: str = ""  # text with %(name)s placeholders and literal % doubled, when it has parameters
    names: list = field(default_factory=list)
    kind: str = ""  # the parser's node name (SelectStmt, TransactionStmt, …) or "" when it did not parse

    @property
    def has_params(self):
        return bool(self.names)


@dataclass
class _Token:
    name: str
    kind: str
    start: int  # character offsets into the whole text, end exclusive
    end: int


def check_size(text):
    if len(text.encode("utf-8")) > settings.QUERY_MAX_SQL_BYTES:
        raise QueryError(f"The SQL is larger than {settings.QUERY_MAX_SQL_BYTES} bytes.", code="too_large", status=413)


def _tokens(text):
    """The server lexer's tokens; None when the text does not even lex."""
    try:
        raw = pg_parser.scan(text)
    except (ParseError, ValueError):
        return None
    # pglast reports character offsets (end inclusive).
    tokens = [_Token(token.name, token.kind, token.start, token.end + 1) for token in raw]
    return tokens


def _pieces(tokens):
    """Token lists of each statement: split at `;`, except inside a `BEGIN ATOMIC … END` function body."""
    pieces, current, depth = [], [], 0
    for index, token in enumerate(tokens):
        following = tokens[index + 1].name if index + 1 < len(tokens) else ""
        if token.name == "BEGIN_P" and following == "ATOMIC":
            depth += 1
        elif depth and token.name == "CASE":
            depth += 1
        elif depth and token.name == "END_P":
            depth -= 1
        if token.name == SEMICOLON and not depth:
            pieces.append(current)
            current = []
            continue
        current.append(token)
    pieces.append(current)
    return pieces


def _is_name(token):
    """An identifier or a non-reserved keyword; not a number (`a[1:2]` is an array slice, not parameter 2)."""
    return token.kind in NAME_KINDS and (token.kind != "NO_KEYWORD" or token.name == "IDENT")


def _placeholders(text, tokens):
    """(start, end, name) of each `:name` and `%(name)s` — read from the lexer, so never inside a string,
    a comment or a `::` cast."""
    found, index = [], 0
    while index < len(tokens):
        token = tokens[index]
        after = tokens[index + 1:index + 5]
        if token.name == COLON and after and after[0].start == token.end and _is_name(after[0]):
            found.append((token.start, after[0].end, None))
            index += 2
            continue
        if (token.name == PERCENT and len(after) == 4 and after[0].name == LPAREN and after[2].name == RPAREN
                and text[after[3].start:after[3].end] == "s" and all(a.start == b.end for a, b in
                                                                   zip(after, [token, *after[:3]], strict=True))):
            found.append((token.start, after[3].end, after[1]))
            index += 5
            continue
        index += 1
    return found


def _bind(text, start, end, placeholders):
    """Return (text[start:end] with %(name)s placeholders and %% escapes, parameter names in order)."""
    parts, names, cursor = [], [], start
    for p_start, p_end, inner in placeholders:
        name = text[inner.start:inner.end] if inner else text[p_start + 1:p_end]
        parts.append(text[cursor:p_start].replace("%", "%%"))
        parts.append(f"%({name})s")
        names.append(name)
        cursor = p_end
    parts.append(text[cursor:end].replace("%", "%%"))
    return "".join(parts), list(dict.fromkeys(names))


def _kind(text):
    """The parser's node name for one statement (parameters replaced by NULL), or "" if it does not parse."""
    try:
        parsed = pg_parser.parse_sql(text)
    except (ParseError, ValueError):
        return ""
    return type(parsed[0].stmt).__name__ if len(parsed) == 1 else "Multiple"


def _refuse_transaction_control(kind, meaningful):
    names = [t.name for t in meaningful[:2]]
    first = names[0] if names else ""
    if kind == "TransactionStmt" or first in TRANSACTION_TOKENS or names == ["PREPARE", "TRANSACTION"]:
        raise QueryError(
            "Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION …) is not allowed: the "
            "editor runs everything in one transaction it controls (read-only runs are always rolled back; write "
            "mode commits only when every statement succeeds).", code="forbidden_statement", status=400)


def _statement(text, tokens):
    start, end = tokens[0].start, tokens[-1].end
    meaningful = [t for t in tokens if t.name not in COMMENT_TOKENS]
    holders = _placeholders(text, meaningful)
    bound, names = _bind(text, start, end, holders)
    probe = bound % {name: "NULL" for name in names} if names else text[start:end]
    kind = _kind(probe)
    _refuse_transaction_control(kind, meaningful)
    return Statement(text=text[start:end], offset=start, bound=bound if names else "", names=names, kind=kind)


def split_statements(text):
    """The statements of `text` (comment-only pieces dropped); raises QueryError for empty input or
    transaction control."""
    check_size(text)
    tokens = _tokens(text)
    if tokens is None:
        # Unterminated quote or comment: the server gets it whole, as one Parse, and reports the error itself.
        stripped = text.strip()
        if not stripped:
            raise QueryError("There is no SQL to run.", code="empty", status=400)
        return [Statement(text=text, offset=0)]
    statements = []
    for piece in _pieces(tokens):
        if any(t.name not in COMMENT_TOKENS for t in piece):
            statements.append(_statement(text, piece))
    if not statements:
        raise QueryError("There is no SQL to run.", code="empty", status=400)
    return statements


def statement_at(text, cursor):
    """(start, end) character offsets of the statement under `cursor` (or the last one before it), by the server's
    lexer; the whole text when it does not lex. Only picks what to send: the run checks it like any SQL."""
    tokens = _tokens(text)
    spans = [(p[0].start, p[-1].end) for p in _pieces(tokens or []) if any(t.name not in COMMENT_TOKENS for t in p)]
    if not spans:
        return 0, len(text)
    before = [span for span in spans if span[0] <= cursor]
    return before[-1] if before else spans[0]


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
