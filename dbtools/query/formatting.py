"""Format SQL with PostgreSQL's own grammar (pglast's prettifier), refusing any output that would not parse to
the very same statements: a formatted script means exactly what the original meant, or it is left as it was."""

import json

from pglast import prettify
from pglast.parser import ParseError, parse_sql_json

from dbtools.query.errors import QueryError
from dbtools.query.safety import check_size

POSITION_KEYS = {"stmt_len"}  # where a node was written, not what it means
POSITION_SUFFIXES = ("location", "list_start", "list_end")


def _is_position(key):
    return key in POSITION_KEYS or key.endswith(POSITION_SUFFIXES)


def _without_positions(node):
    if isinstance(node, dict):
        return {key: _without_positions(value) for key, value in node.items() if not _is_position(key)}
    if isinstance(node, list):
        return [_without_positions(item) for item in node]
    return node


def statement_trees(text):
    """The parse trees of every statement of `text`, positions left out (raises pglast's ParseError)."""
    return _without_positions(json.loads(parse_sql_json(text)).get("stmts", []))


def _parse_error(exc):
    message = str(exc.args[0]) if exc.args else "syntax error"
    position = exc.args[1] + 1 if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
    where = f" at character {position}" if position else ""
    return QueryError(f"Cannot format: {message}{where}. Only SQL PostgreSQL can parse is formatted "
                      "(named :parameters are not).", code="format_syntax", status=400, position=position)


def format_sql(text):
    """The prettified `text`; QueryError (400) when it cannot be parsed or formatting would change a tree."""
    check_size(text)
    if not text.strip():
        raise QueryError("Nothing to format: the SQL is empty.", code="invalid", status=400)
    try:
        before = statement_trees(text)
        pretty = prettify(text, preserve_comments=True)
    except ParseError as exc:
        raise _parse_error(exc)
    except Exception as exc:  # the prettifier has no printer for some rare nodes: leave the text alone
        raise QueryError(f"Cannot format this SQL ({exc.__class__.__name__}); it was left as it was.",
                         code="format_unsupported", status=400)
    if not before:
        raise QueryError("Nothing to format: the SQL holds only comments.", code="invalid", status=400)
    try:
        after = statement_trees(pretty)
    except ParseError:
        after = None
    if after != before:
        raise QueryError("Formatting would change what this SQL means, so it was left as it was.",
                         code="format_unsafe", status=400)
    return pretty if pretty.endswith("\n") else pretty + "\n"
