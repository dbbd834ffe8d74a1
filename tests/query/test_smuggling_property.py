"""Property: whatever text an analyst sends, on whatever path, nothing outside the run changes.

Hypothesis builds smuggling variants from the pieces lexers disagree on — nested comments, every quoting style
(`''`, `E''`, `U&''`, `$tag$`, `""`), backslashes, unicode escapes, semicolons in every lexical context — around
transaction verbs and payloads that would leave a mark if they ever ran outside the read-only transaction. A
third of the runs use a splitter that lies, so the server-side guard is what is tested. After every batch the
canary (data, sequence, large objects, role settings, prepared transactions) must be unchanged.
"""

from unittest import mock

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from dbtools.query import runner
from dbtools.query.errors import QueryError
from dbtools.query.explain import explain_query
from dbtools.query.export import Export
from dbtools.query.runner import run_query
from tests.query.conftest import canary_state
from tests.query.test_trust_boundary import naive_split, whole_split

EXAMPLES = 1000
BATCH = 50

VERBS = ["COMMIT", "END", "ABORT", "ROLLBACK", "COMMIT AND CHAIN", "ROLLBACK AND CHAIN", "PREPARE TRANSACTION 'hx'",
         "SAVEPOINT s", "RELEASE s", "ROLLBACK TO s", "BEGIN READ WRITE", "START TRANSACTION READ WRITE",
         "SET TRANSACTION READ WRITE", "COMMIT PREPARED 'hx'", "commit", "/* c */ COMMIT", "-- c\nEND"]
UNLOCKS = ["SET default_transaction_read_only = off", "SET default_transaction_read_only = off",
           "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "BEGIN READ WRITE", "START TRANSACTION READ WRITE",
           "SELECT set_config('default_transaction_read_only', 'off', false)", "SELECT 1"]
PAYLOADS = ["SELECT lo_from_bytea(0, 'x'::bytea)", "INSERT INTO users (username, email) VALUES ('hx', 'hx@x')",
            "SELECT nextval('posts_id_seq')", "ALTER ROLE CURRENT_USER SET work_mem = '1MB'",
            "CREATE TABLE hx (i int)", "DELETE FROM posts", "PREPARE TRANSACTION 'hx'"]
# Text that lexers read differently: what one calls a comment or a string, another calls code.
PREFIXES = ["", "/* /* */ */ ", "/* a /* b */ c */ ", "/*/**/*/ ", "SELECT '\\' AS a; ", "SELECT E'\\'' AS a; ",
            "SELECT $t$;$t$; ", "SELECT $$ ; $$; ", "SELECT U&'\\0027' AS a; ", "-- c\n", "/* ; */ ",
            "SELECT 'it''s;' AS a; ", "SELECT \"a;b\" FROM (SELECT 1 AS \"a;b\") q; ", "\ufeff", "\u200b"]
SEPARATORS = [";", ";\n", " ;", "; /* x */ ", ";\t", "; -- x\n", "\u037e", ";;"]
TAILS = ["", " --'", " -- x", "; SELECT 1 --'", "; COMMIT; SELECT 1 --'", " */", "; $t$"]
PATHS = ["run", "run", "explain", "explain_analyze", "export", "admin_form"]

# An escape needs an order (leave the transaction, unlock writes, write), so every variant has that spine, with
# text lexers disagree on in front and random separators and tails.
variant = st.tuples(
    st.tuples(st.sampled_from(PREFIXES), st.sampled_from(VERBS), st.sampled_from(SEPARATORS),
              st.sampled_from(UNLOCKS), st.sampled_from(SEPARATORS), st.sampled_from(PAYLOADS),
              st.sampled_from(TAILS)),
    st.sampled_from(PATHS), st.sampled_from(["pglast", "pglast", "naive", "whole"]))


def _text(parts):
    prefix, verb, sep1, unlock, sep2, payload, tail = parts
    return f"{prefix}{verb}{sep1}{unlock}{sep2}{payload}{tail}"


def _send(path, text, user, client):
    if path == "admin_form":
        response = client.post("/admin/dbtools/query/", {"sql": text, "action": "run"})
        assert response.status_code == 200, response.status_code
        return
    try:
        if path == "run":
            run_query(user=user, sql=text)
        elif path == "export":
            list(Export(user=user, sql_text=text, fmt="csv"))
        else:
            explain_query(user=user, sql_text=text, analyze=path == "explain_analyze")
    except QueryError:
        pass  # refused or failed: fine, as long as nothing changed


@pytest.mark.slow
def test_no_smuggled_text_changes_anything(analyst, blog_rows):
    client = Client()
    client.force_login(analyst)
    before = canary_state()
    sent = {"count": 0}

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                         suppress_health_check=list(HealthCheck))
    @given(variant)
    def send_one(example):
        pieces, path, splitter = example
        liar = {"naive": naive_split, "whole": whole_split}.get(splitter)
        patch = mock.patch.object(runner, "split_statements", liar) if liar else mock.MagicMock()
        with patch:
            _send(path, _text(pieces), analyst, client)
        sent["count"] += 1
        if sent["count"] % BATCH == 0:
            assert canary_state() == before, f"changed after {sent['count']} variants; last: {_text(pieces)!r}"

    send_one()
    assert sent["count"] >= EXAMPLES
    assert canary_state() == before
