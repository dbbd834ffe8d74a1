"""Query text for people who may not read it: a fingerprint with every constant replaced by $n, comments dropped.

pg_stat_activity shows other sessions' statements verbatim, passwords and customer data included. Roles without
dbtools.view_query_text (and the audit trail, always) get the shape of the statement only. The server's own
parser (libpg_query via pglast) decides what a constant is; text it cannot parse — e.g. cut off at
track_activity_query_size — becomes REDACTED rather than being guessed at.
"""

from pglast.parser import normalize, scan

REDACTED = "redacted"
CONSTANT_TOKENS = {"SCONST", "USCONST", "BCONST", "XCONST", "ICONST", "FCONST", "BITCONST"}
COMMENT_TOKENS = {"C_COMMENT", "SQL_COMMENT"}


def _strip(text):
    """Drop comments (normalize keeps them) and any constant normalize left in place (e.g. COPY's file name)."""
    tokens = scan(text)
    numbered = sum(1 for token in tokens if token.name == "PARAM")
    parts, position = [], 0
    for token in tokens:
        if token.name in COMMENT_TOKENS or token.name in CONSTANT_TOKENS:
            parts.append(text[position:token.start])
            if token.name in CONSTANT_TOKENS:
                numbered += 1
                parts.append(f"${numbered}")
            position = token.end + 1
    parts.append(text[position:])
    return " ".join("".join(parts).split())


def fingerprint(text):
    """The statement with constants as $1, $2…; '' stays ''; REDACTED when the parser refuses it."""
    if not text or not text.strip():
        return ""
    try:
        return _strip(normalize(text)) or REDACTED
    except Exception:  # noqa: BLE001 - whatever the parser cannot handle is hidden, never shown raw or a 500
        return REDACTED


def shown_query(text, *, full):
    return (text or "") if full else fingerprint(text)
