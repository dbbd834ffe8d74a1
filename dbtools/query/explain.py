"""EXPLAIN (FORMAT JSON) of the last statement, flattened into an indented tree with the costliest nodes marked.

Earlier statements run first in the same transaction (a SET or a temp view the plan depends on); ANALYZE
executes the statement, inside the same always-rolled-back transaction.
"""

import json
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from dbtools.query import services
from dbtools.query.boundary import check_boundary
from dbtools.query.deadline import check_deadline
from dbtools.query.runner import execute_statement, opened_run, run_statements
from dbtools.query.safety import Statement

HOT_SHARE = 0.3  # a node whose own cost/time is at least this share of the total is highlighted


@dataclass
class ExplainResult:
    nodes: list = field(default_factory=list)
    plan: list = field(default_factory=list)
    analyze: bool = False
    planning_ms: float | None = None
    execution_ms: float | None = None
    duration_ms: float = 0.0
    query_id: int | None = None


def _label(node):
    parts = [node.get("Node Type", "?")]
    if node.get("Join Type") and "Join" in parts[0]:
        parts[0] = f"{node['Join Type']} {parts[0]}"
    if node.get("Index Name"):
        parts.append(f"using {node['Index Name']}")
    if node.get("Relation Name"):
        target = node["Relation Name"]
        if node.get("Alias") and node["Alias"] != target:
            target += f" {node['Alias']}"
        parts.append(f"on {target}")
    return " ".join(parts)


def _own(node, key, loops=False):
    """A node's exclusive cost (or time): its total minus its children's totals."""
    def total(item):
        value = item.get(key) or 0
        return value * (item.get("Actual Loops") or 1) if loops else value
    return max(total(node) - sum(total(child) for child in node.get("Plans", [])), 0)


def flatten(plan, analyze):
    nodes = []

    def walk(node, depth):
        nodes.append({
            "depth": min(depth, 20), "label": _label(node), "startup_cost": node.get("Startup Cost"),
            "total_cost": node.get("Total Cost"), "plan_rows": node.get("Plan Rows"),
            "actual_rows": node.get("Actual Rows"), "loops": node.get("Actual Loops"),
            "actual_ms": round(node["Actual Total Time"] * (node.get("Actual Loops") or 1), 3)
            if analyze and node.get("Actual Total Time") is not None else None,
            "own": round(_own(node, "Actual Total Time", loops=True) if analyze else _own(node, "Total Cost"), 3),
            "filter": node.get("Filter") or node.get("Index Cond") or node.get("Hash Cond") or "",
        })
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan, 0)
    total = sum(n["own"] for n in nodes) or 1
    top = max(n["own"] for n in nodes)
    for n in nodes:
        n["share"] = round(100 * n["own"] / total, 1)
        n["hot"] = n["own"] > 0 and (n["own"] == top or n["own"] / total >= HOT_SHARE)
    return nodes


def _explain_statement(statement, analyze):
    """EXPLAIN wrapped around the user's statement; still one statement, sent over the extended protocol."""
    options = "FORMAT JSON, ANALYZE, BUFFERS" if analyze else "FORMAT JSON"
    text = statement.bound if statement.has_params else statement.text
    wrapped = sql.SQL("EXPLAIN ({}) {}").format(sql.SQL(options), sql.SQL(text)).as_string(None)
    if statement.has_params:
        return Statement(text=wrapped, offset=statement.offset, bound=wrapped, names=statement.names)
    return Statement(text=wrapped, offset=statement.offset)


def _plan_document(conn, statement, params, analyze):
    check_deadline(conn)
    try:
        _, rows, _, _, command = execute_statement(conn, _explain_statement(statement, analyze), params, keep=1)
    except psycopg.Error as exc:
        exc.pgdeck_offset = statement.offset
        raise
    check_boundary(conn, command)
    return rows[0][0]


def explain_query(*, user, sql_text, params=None, analyze=False, token="", alias="default"):
    mode = "explain_analyze" if analyze else "explain"
    with opened_run(user=user, sql_text=sql_text, params=params, mode="read", history_mode=mode, token=token,
                    alias=alias) as run:
        *before, last = run.statements
        if before:
            run_statements(run.conn, before, run.params, 0)
        document = _plan_document(run.conn, last, run.params, analyze)
    plan = json.loads(document) if isinstance(document, str) else document
    services.history_finish(run.entry, status="success", started=run.started, row_count=None)
    services.history_set_plan(run.entry, plan)
    top = plan[0]
    return ExplainResult(nodes=flatten(top["Plan"], analyze), plan=plan, analyze=analyze,
                         planning_ms=top.get("Planning Time"), execution_ms=top.get("Execution Time"),
                         duration_ms=run.entry.execution_time, query_id=run.entry.pk)
