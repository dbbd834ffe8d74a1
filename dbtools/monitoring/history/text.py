"""Who reads a statement's text: holders of dbtools.view_query_text get it as pg_stat_statements keeps it,
everyone else a fingerprint (constants as $n, comments dropped) from the PostgreSQL parser.

pg_stat_statements already replaces most constants, but not all (utility statements, DDL, values it cannot
normalise), so its text is not safe to show as is.
"""

from pglast.parser import ParseError, normalize, scan

TEXT_PERMISSION = "dbtools.view_query_text"
REDACTED = "redacted"
CONSTANTS = {"SCONST", "USCONST", "BCONST", "XCONST", "ICONST", "FCONST", "BITCONST"}
COMMENTS = {"C_COMMENT", "SQL_COMMENT"}


def can_read_text(user):
    return user.has_perm(TEXT_PERMISSION)


def fingerprint(text):
    """normalize() replaces constants; the token pass drops comments and any constant it left in place."""
    if not text or not text.strip():
        return ""
    try:
        normalized = normalize(text)
        tokens = scan(normalized)
    except (ParseError, ValueError, UnicodeError):
        return REDACTED
    number = sum(1 for token in tokens if token.name == "PARAM")
    parts, position = [], 0
    for token in tokens:
        if token.name in COMMENTS or token.name in CONSTANTS:
            parts.append(normalized[position:token.start])
            if token.name in CONSTANTS:
                number += 1
                parts.append(f"${number}")
            position = token.end + 1
    parts.append(normalized[position:])
    return " ".join("".join(parts).split()) or REDACTED


def shown_text(user, text):
    return (text or "") if can_read_text(user) else fingerprint(text)
