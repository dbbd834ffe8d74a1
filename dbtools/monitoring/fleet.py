"""The fleet overview's probes: every target checked concurrently, none able to stall the page.

- Probes run in one thread pool per process (FLEET_MAX_WORKERS), at most one in flight per target: page loads
  that overlap share it, so a busy page cannot pile connections onto a target.
- Each probe keeps one psycopg connection to its target between probes (reopened when it broke or the target's
  parameters changed), with connect_timeout FLEET_CONNECT_TIMEOUT and statement/lock timeouts of
  FLEET_STATEMENT_TIMEOUT_MS, and runs the one statement of queries/fleet.py. Which database the target is
  (targets/identity.py: system identifier, server start) is read once per connection, when it opens: neither can
  change while it lives, since a restart ends it. The health checks (checks.py) run
  at most every FLEET_ALERTS_SECONDS per target, in a pool of their own on a connection of their own, never
  holding up a probe; their amber/red verdicts are the row's alerts (until the first run: not checked yet).
- A page waits for the probes until FLEET_DEADLINE_SECONDS, and only for targets whose last probe answered within
  it: a target that did not (a silent port, a black-holed host) shows "slow" while its probe goes on in the
  background, and is waited for again once a probe has come back in time.
Status: "up"; "slow" (answered, but in more than FLEET_SLOW_MS; or a timeout; or no answer before the deadline);
"down" (refused, DNS failure, wrong password, TLS refused, …: the one-line reason is shown).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field

import psycopg
from django.conf import settings

from config.dbcheck import first_line
from dbtools.monitoring import checks
from dbtools.monitoring.queries import fleet as queries
from dbtools.monitoring.queries.base import MonitoringQueryError
from dbtools.monitoring.queries.bound import bound_to
from targets import identity

UP, SLOW, DOWN = "up", "slow", "down"


@dataclass(frozen=True)
class Probe:
    name: str
    status: str
    seconds: float  # how long the probe took (or has been running)
    error: str = ""
    figures: dict = field(default_factory=dict)
    alerts: tuple = ()
    checked_at: float = 0.0  # time.time() when it answered
    alerts_checked_at: float = 0.0  # time.time() of the health checks behind `alerts` (0: not run yet)


@dataclass
class _State:
    kwargs: dict | None = None
    conn: psycopg.Connection | None = None
    cursor: psycopg.Cursor | None = None  # on `conn`, kept with it (queries.cursor)
    identity: dict = field(default_factory=dict)  # of the database `conn` is connected to (targets/identity.py)
    future: object = None
    started: float = 0.0
    last: Probe | None = None
    alerts: tuple = ()
    alerts_at: float = 0.0  # monotonic
    alerts_checked_at: float = 0.0  # time.time()
    alerts_future: object = None
    reused: bool = False  # the current probe runs on a connection kept from an earlier one
    database_bytes: int | None = None
    size_at: float = 0.0  # monotonic; the size is read again after FLEET_ALERTS_SECONDS


_lock = threading.RLock()
_states: dict[str, _State] = {}
_executors = {}
ALERT_WORKERS = 4


def _pool(kind="probes"):
    """The probes' thread pool, or the health checks' (kind "alerts"): separate, so slow checks never delay a
    probe."""
    with _lock:
        if kind not in _executors:
            workers = settings.FLEET_MAX_WORKERS if kind == "probes" else ALERT_WORKERS
            _executors[kind] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"pgdeck-fleet-{kind}")
        return _executors[kind]


def probe_targets(connect_kwargs_by_name, *, deadline=None):
    """{name: Probe} for every target of `connect_kwargs_by_name` ({name: psycopg.connect keywords from the seam,
    purpose "monitoring"}), in at most `deadline` seconds whatever the targets do."""
    deadline = settings.FLEET_DEADLINE_SECONDS if deadline is None else deadline
    started = time.monotonic()
    futures = {name: _start(name, kwargs) for name, kwargs in connect_kwargs_by_name.items()}
    worth_waiting = [future for name, future in futures.items() if _answered_in_time(name, deadline)]
    wait_for(worth_waiting, timeout=max(0.0, deadline - (time.monotonic() - started)))
    return {name: _outcome(name, future, deadline) for name, future in futures.items()}


def _start(name, kwargs):
    with _lock:
        state = _states.setdefault(name, _State())
        if state.future is None or state.future.done():
            state.started = time.monotonic()
            state.future = _pool().submit(_probe, name, state, kwargs)
        return state.future


def _answered_in_time(name, deadline):
    last = _states[name].last
    return last is None or (bool(last.checked_at) and last.seconds < deadline)  # checked_at 0: never answered


def _outcome(name, future, deadline):
    state = _states[name]
    if future.done():
        return future.result()
    waited = time.monotonic() - state.started
    probe = Probe(name, SLOW, waited, f"no answer within {max(deadline, waited):.1f} s (still waiting)",
                  figures=dict(state.last.figures) if state.last else {}, alerts=state.alerts,
                  alerts_checked_at=state.alerts_checked_at)
    with _lock:
        if not future.done():
            state.last = probe  # the next page does not wait for it, until a probe answers in time again
    return probe


def _probe(name, state, kwargs):
    started = time.monotonic()
    try:
        figures = _read(state, kwargs)
        seconds = time.monotonic() - started
        status = SLOW if seconds * 1000 > settings.FLEET_SLOW_MS else UP
        error = f"answered in {seconds:.2f} s" if status == SLOW else ""
        _refresh_alerts(state, kwargs)
        probe = Probe(name, status, seconds, error, figures, state.alerts, time.time(), state.alerts_checked_at)
    except Exception as exc:  # noqa: BLE001 - any failure of a target is its row's status, never the page's
        _close(state)
        probe = Probe(name, _status_of(exc), time.monotonic() - started, first_line(exc), checked_at=time.time())
    with _lock:
        state.last = probe
    return probe


def _read(state, kwargs):
    _connection(state, kwargs)
    try:
        figures = _figures(state)
    except psycopg.OperationalError:
        if not state.reused:
            raise
        _close(state)  # a kept connection the target dropped (restart, idle timeout): one fresh try
        _connection(state, kwargs)
        figures = _figures(state)
    return figures


def _connection(state, kwargs):
    if state.conn is not None and (state.kwargs != kwargs or state.conn.closed):
        _close(state)
    state.reused = state.conn is not None
    if state.conn is None:
        state.conn = _connect(kwargs)
        state.kwargs, state.cursor = kwargs, queries.cursor(state.conn)
        state.identity = identity.read(state.conn)
    return state.conn


def _connect(kwargs):
    timeout = settings.FLEET_STATEMENT_TIMEOUT_MS
    options = f"-c statement_timeout={timeout} -c lock_timeout={timeout}"
    return psycopg.connect(**{**kwargs, "connect_timeout": settings.FLEET_CONNECT_TIMEOUT, "options": options},
                           autocommit=True)


def _figures(state):
    """The probe's row. The database size (pg_database_size stats every file of the database: the costliest part
    of a probe, bench/fleet.py) is read at most every FLEET_ALERTS_SECONDS, like the alerts; the rest every load."""
    size_fresh = state.size_at and time.monotonic() - state.size_at < settings.FLEET_ALERTS_SECONDS
    figures = queries.status(state.cursor, settings.MONITORING_LONG_QUERY_SECONDS, with_size=not size_fresh)
    figures.update(system_identifier=state.identity["system_identifier"], started=state.identity["started"])
    if size_fresh:
        figures["database_bytes"] = state.database_bytes
    else:
        state.database_bytes, state.size_at = figures["database_bytes"], time.monotonic()
    return figures


def _refresh_alerts(state, kwargs):
    """Alerts older than FLEET_ALERTS_SECONDS: one evaluation in the background (one at a time per target); the
    probe answers with the alerts it has."""
    with _lock:
        stale = not state.alerts_at or time.monotonic() - state.alerts_at >= settings.FLEET_ALERTS_SECONDS
        if stale and (state.alerts_future is None or state.alerts_future.done()):
            state.alerts_future = _pool("alerts").submit(_evaluate_alerts, state, kwargs)


def _evaluate_alerts(state, kwargs):
    """Amber/red verdicts of the health checks (checks.py), on a connection of their own to the target."""
    alerts = []
    timeout = settings.FLEET_STATEMENT_TIMEOUT_MS
    try:
        with _connect(kwargs) as conn, bound_to(conn, statement_timeout_ms=timeout, lock_timeout_ms=timeout):
            for check in checks.CHECKS:
                try:
                    verdict = check()
                except MonitoringQueryError as exc:  # e.g. a credential without the privilege for one check
                    alerts.append({"key": check.__name__, "status": checks.AMBER, "title": check.__name__,
                                   "summary": f"check failed: {exc}"})
                    continue
                if verdict["status"] != checks.GREEN:
                    alerts.append({k: verdict[k] for k in ("key", "status", "title", "summary")})
    except psycopg.Error:  # the target went away meanwhile: its probe says so; try again next time
        return
    with _lock:
        state.alerts, state.alerts_at, state.alerts_checked_at = tuple(alerts), time.monotonic(), time.time()


def _close(state):
    conn, state.conn, state.kwargs, state.cursor, state.identity = state.conn, None, None, None, {}
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110 - closing a broken connection: nothing left to do
            pass


def _status_of(exc):
    if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
        return SLOW
    if isinstance(exc, psycopg.OperationalError) and "timeout expired" in str(exc):
        return SLOW  # connect_timeout: the port accepted, the server never answered
    return DOWN


def forget(name=None):
    """Drop the kept connections and results (one target, or all): tests, and a target deleted."""
    with _lock:
        names = [name] if name else list(_states)
        for key in names:
            state = _states.pop(key, None)
            if state is not None:
                _close(state)


def row(name, environment, probe, last_backup_at, now):
    """One row of the overview (the page and GET /api/v1/monitoring/fleet): the probe's figures, flattened."""
    figures = probe.figures
    max_connections, connections = figures.get("max_connections"), figures.get("connections")
    return {
        "target": name, "environment": environment, "status": probe.status, "error": probe.error,
        "probe_ms": round(probe.seconds * 1000, 1),
        "checked_at": _iso(probe.checked_at), "version": figures.get("version"),
        "in_recovery": figures.get("in_recovery"), "database": figures.get("database"),
        "connections": connections, "max_connections": max_connections,
        "connections_percent": round(100 * connections / max_connections, 1) if max_connections else None,
        "cache_hit_ratio": _round(figures.get("cache_hit_ratio"), 4),
        "long_running": figures.get("long_running"), "blocked": figures.get("blocked"),
        "replication_lag_seconds": _round(figures.get("lag_seconds"), 1), "replicas": figures.get("replicas"),
        "database_bytes": figures.get("database_bytes"),
        "last_backup_at": last_backup_at.isoformat() if last_backup_at else None,
        "last_backup_age_seconds": round((now - last_backup_at).total_seconds()) if last_backup_at else None,
        "alerts": [dict(alert) for alert in probe.alerts], "alerts_checked_at": _iso(probe.alerts_checked_at),
        "duplicate_of": None,
    }


def mark_duplicates(rows, probes):
    """Rows whose probe says they are the same database as an earlier row (system identifier, database, server
    start: targets/identity.py) get `duplicate_of` that row's target, so the page and the summary count the
    database once. A row without figures (down) cannot be compared and stays as it is."""
    seen = {}
    for row in rows:
        figures = probes[row["target"]].figures
        key = tuple(figures.get(name) for name in ("system_identifier", "database", "started"))
        if None in key:
            continue
        if key in seen:
            row["duplicate_of"] = seen[key]
        else:
            seen[key] = row["target"]
    return rows


def summary(rows):
    """Targets per status, each database once (duplicates counted apart)."""
    counts = {status: sum(row["status"] == status and not row["duplicate_of"] for row in rows)
              for status in (UP, SLOW, DOWN)}
    return {**counts, "duplicates": sum(bool(row["duplicate_of"]) for row in rows)}


def unusable(name, message):
    """The probe of a target whose parameters cannot even be built (e.g. a password the keys cannot decrypt)."""
    return Probe(name, DOWN, 0.0, message, checked_at=time.time())


def _round(value, digits):
    return None if value is None else round(value, digits)


def _iso(timestamp):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None
