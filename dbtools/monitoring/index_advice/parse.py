"""Where a statement uses columns: equality / range filters, join keys and ORDER BY, per table it reads.

The PostgreSQL parser (pglast) classifies; nothing here guards anything. A column reference without a table
prefix is kept with every table in scope as a candidate; the advisor picks the one that has such a column.
"""

from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType
from pglast.parser import ParseError

EQUALITY, RANGE = {"="}, {"<", ">", "<=", ">="}


@dataclass(frozen=True)
class Table:
    schema: str | None
    name: str


@dataclass
class Usage:
    """Column names per table of one SELECT / UPDATE / DELETE; `unresolved` holds (column, kind, tables)."""
    eq: dict = field(default_factory=dict)
    range: dict = field(default_factory=dict)
    join: dict = field(default_factory=dict)
    sort: dict = field(default_factory=dict)
    unresolved: list = field(default_factory=list)
    tables: set = field(default_factory=set)

    def add(self, kind, table, column):
        bucket = getattr(self, kind).setdefault(table, [])
        if column not in bucket:
            bucket.append(column)


def statement_usages(text):
    """One Usage per query block of every statement in `text`; [] when the parser refuses the text."""
    try:
        statements = parse_sql(text)
    except (ParseError, ValueError, UnicodeError):
        return []
    usages = []
    for raw in statements:
        _block(raw.stmt, usages)
    return usages


def _block(node, usages):
    if isinstance(node, ast.SelectStmt):
        if node.larg is not None:  # UNION / INTERSECT / EXCEPT
            _block(node.larg, usages)
            _block(node.rarg, usages)
            return
        _ctes(node.withClause, usages)
        scope = {}
        for item in node.fromClause or ():
            _from_item(item, scope, usages)
        usage = Usage(tables=set(scope.values()))
        _where(node.whereClause, scope, usage, usages)
        for item in node.fromClause or ():
            _join_quals(item, scope, usage, usages)
        for sort in node.sortClause or ():
            column = _column(sort.node, scope)
            if column:
                _record(usage, "sort", column)
        usages.append(usage)
    elif isinstance(node, (ast.UpdateStmt, ast.DeleteStmt)):
        _ctes(node.withClause, usages)
        scope = {}
        _from_item(node.relation, scope, usages)
        usage = Usage(tables=set(scope.values()))
        _where(node.whereClause, scope, usage, usages)
        usages.append(usage)


def _ctes(with_clause, usages):
    for cte in getattr(with_clause, "ctes", None) or ():
        _block(cte.ctequery, usages)


def _from_item(item, scope, usages):
    if isinstance(item, ast.RangeVar):
        table = Table(item.schemaname, item.relname)
        scope[item.alias.aliasname if item.alias else item.relname] = table
    elif isinstance(item, ast.JoinExpr):
        _from_item(item.larg, scope, usages)
        _from_item(item.rarg, scope, usages)
    elif isinstance(item, ast.RangeSubselect):
        _block(item.subquery, usages)


def _join_quals(item, scope, usage, usages):
    if isinstance(item, ast.JoinExpr):
        _join_quals(item.larg, scope, usage, usages)
        _join_quals(item.rarg, scope, usage, usages)
        _where(item.quals, scope, usage, usages)


def _column(node, scope):
    """(table or None, column, candidate tables) for a plain column reference; None for anything else."""
    if not isinstance(node, ast.ColumnRef) or not all(isinstance(f, ast.String) for f in node.fields):
        return None
    names = [f.sval for f in node.fields]
    if len(names) == 1:
        tables = set(scope.values())
        return (next(iter(tables)) if len(tables) == 1 else None, names[0], tables)
    table = scope.get(names[-2])
    return (table, names[-1], {table}) if table else None


def _is_value(node):
    """A parameter, a constant or a function of them (e.g. now()): what an index lookup compares with."""
    if isinstance(node, ast.TypeCast):
        return _is_value(node.arg)
    return isinstance(node, (ast.ParamRef, ast.A_Const, ast.FuncCall, ast.SQLValueFunction))


def _record(usage, kind, column):
    table, name, candidates = column
    if table is not None:
        usage.add(kind, table, name)
    else:
        usage.unresolved.append((name, kind, candidates))


def _where(node, scope, usage, usages):
    """AND-ed comparisons only: an OR needs an index per branch, which this advisor does not attempt."""
    if node is None:
        return
    if isinstance(node, ast.BoolExpr):
        if node.boolop == BoolExprType.AND_EXPR:
            for arg in node.args:
                _where(arg, scope, usage, usages)
        return
    if isinstance(node, ast.SubLink):
        _block(node.subselect, usages)
        return
    if isinstance(node, ast.A_Expr):
        _comparison(node, scope, usage)


def _comparison(node, scope, usage):
    operator = node.name[-1].sval if node.name else ""
    left, right = _column(node.lexpr, scope), None
    if node.kind == A_Expr_Kind.AEXPR_OP:
        right = _column(node.rexpr, scope)
        if left and right:
            if operator in EQUALITY and left[0] != right[0]:
                _record(usage, "join", left)
                _record(usage, "join", right)
            return
        column, value = (left, node.rexpr) if left else (right, node.lexpr)
        if column and _is_value(value) and operator in EQUALITY | RANGE:
            _record(usage, "eq" if operator in EQUALITY else "range", column)
    elif node.kind == A_Expr_Kind.AEXPR_IN and left and operator == "=":
        _record(usage, "eq", left)
    elif node.kind == A_Expr_Kind.AEXPR_BETWEEN and left:
        _record(usage, "range", left)
