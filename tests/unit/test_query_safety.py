"""dbtools/query/safety.py: statement splitting, classification and parameter binding (no database)."""

import pytest

from dbtools.query.errors import QueryError
from dbtools.query.safety import check_params, parameter_names, split_statements


def texts(sql):
    return [statement.text for statement in split_statements(sql)]


def test_splits_at_semicolons_and_keeps_offsets():
    sql = "select 1; select 2 ;\nselect 3"
    statements = split_statements(sql)
    assert [s.text for s in statements] == ["select 1", "select 2", "select 3"]
    assert [sql[s.offset:s.offset + len(s.text)] for s in statements] == ["select 1", "select 2", "select 3"]
    assert {s.kind for s in statements} == {"SelectStmt"}


@pytest.mark.parametrize("sql, expected", [
    ("select 'a;b'", ["select 'a;b'"]),
    ("select $x$;$x$", ["select $x$;$x$"]),
    ("select E'\\';'; select 2", ["select E'\\';'", "select 2"]),
    ("select 1 /* ; /* nested ; */ still ; */", ["select 1 /* ; /* nested ; */ still ; */"]),
    ("select 1 -- ; comment\n", ["select 1 -- ; comment"]),
    ('select ";" from t', ['select ";" from t']),
])
def test_semicolons_inside_strings_comments_and_identifiers_do_not_split(sql, expected):
    assert texts(sql) == expected


def test_begin_atomic_body_is_one_statement():
    sql = ("create function f() returns int language sql begin atomic select 1; select case when true then 2 end; "
           "end; select 3")
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[0].kind == "CreateFunctionStmt" and statements[1].text == "select 3"


def test_comment_only_pieces_are_dropped_and_empty_input_is_refused():
    assert texts("-- nothing\n; select 1; /* */") == ["select 1"]
    for empty in ("", "   ", "-- only a comment", ";;"):
        with pytest.raises(QueryError) as refused:
            split_statements(empty)
        assert refused.value.code == "empty"


def test_text_that_does_not_lex_goes_whole_to_the_server():
    statements = split_statements("select 'unterminated; select 2")
    assert len(statements) == 1 and statements[0].text == "select 'unterminated; select 2"
    assert statements[0].kind == ""


@pytest.mark.parametrize("sql", [
    "begin", "BEGIN; select 1", "start transaction", "commit", "end", "rollback", "abort", "savepoint s",
    "release savepoint s", "rollback to savepoint s", "prepare transaction 'x'", "select 1; commit",
    "/* hidden */ COMMIT",
])
def test_transaction_control_is_refused(sql):
    with pytest.raises(QueryError) as refused:
        split_statements(sql)
    assert refused.value.code == "forbidden_statement"


def test_classifies_each_statement_by_the_parser():
    kinds = [s.kind for s in split_statements("select 1; insert into t values (1); update t set a = 1; "
                                              "delete from t; create table u (a int); drop table u; "
                                              "select from")]
    assert kinds == ["SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "CreateStmt", "DropStmt", ""]


def test_named_parameters_bind_and_escape_percent():
    (statement,) = split_statements("select * from t where a = :a and b like '10%' and c = %(c)s and d = :a")
    assert statement.names == ["a", "c"]
    assert statement.bound == "select * from t where a = %(a)s and b like '10%%' and c = %(c)s and d = %(a)s"
    assert statement.has_params


@pytest.mark.parametrize("sql", [
    "select 1::int", "select ':a'", "select 1 -- :a", "select /* :a */ 1", "select $$:a$$", 'select ":a"',
    "select a[1:2] from t", "select a[1:2.5] from t",
])
def test_no_parameter_inside_casts_strings_comments_or_slices(sql):
    (statement,) = split_statements(sql)
    assert statement.names == [] and statement.bound == "" and not statement.has_params


def test_parameter_names_in_order_of_first_use_and_none_for_bad_sql():
    assert parameter_names("select :b, :a; select :b, :c") == ["b", "a", "c"]
    assert parameter_names("commit") == []


def test_check_params_names_every_missing_one_once():
    statements = split_statements("select :a, :b; select :b, :c")
    check_params(statements, {"a": 1, "b": 2, "c": 3})
    with pytest.raises(QueryError) as refused:
        check_params(statements, {"a": 1})
    assert refused.value.code == "missing_parameters"
    assert "b, c" in str(refused.value)


def test_too_large_sql_is_refused(settings):
    settings.QUERY_MAX_SQL_BYTES = 20
    split_statements("select 1")
    with pytest.raises(QueryError) as refused:
        split_statements("select 'ééééééééééé'")  # 20 characters, more bytes
    assert refused.value.code == "too_large" and refused.value.status == 413
