"""Health checks, PgHero style: each one runs its query and returns a green/amber/red verdict with advice."""

from django.conf import settings

from dbtools.monitoring.queries import activity, health, replication

GREEN, AMBER, RED = "green", "amber", "red"


def result(key, title, status, summary, rows=(), advice=""):
    return {"key": key, "title": title, "status": status, "summary": summary, "rows": list(rows), "advice": advice}


def check_sequences():
    rows = health.sequences_near_overflow(min_ratio=0.5)
    for row in rows:
        row["percent_used"] = round(100.0 * row["last_value"] / row["max_value"], 2)
    worst = max((row["percent_used"] for row in rows), default=0)
    status = RED if worst >= 90 else AMBER if worst >= 75 else GREEN
    summary = f"{len(rows)} sequence(s) past half their range" if rows else "No sequence is past half its range"
    return result("sequences", "Sequences near overflow", status, summary, rows,
                  "Change the column and sequence to bigint (ALTER TABLE … ALTER COLUMN … TYPE bigint; "
                  "ALTER SEQUENCE … AS bigint) before the range runs out.")


def check_wraparound():
    rows = health.transaction_id_age()
    worst = max((row["percent_towards_wraparound"] for row in rows), default=0)
    status = RED if worst >= 75 else AMBER if worst >= 50 else GREEN
    return result("wraparound", "Transaction ID wraparound", status,
                  f"Oldest unfrozen transaction ID is {worst}% of the way to wraparound", rows,
                  "Run VACUUM (FREEZE) on the oldest tables; look for long transactions or stale replication "
                  "slots that stop autovacuum from freezing.")


def check_idle_in_transaction():
    threshold = settings.MONITORING_IDLE_IN_TRANSACTION_SECONDS
    rows = health.idle_in_transaction(threshold)
    longest = max((row["idle_seconds"] for row in rows), default=0)
    status = RED if longest >= threshold * 10 else AMBER if rows else GREEN
    summary = f"{len(rows)} session(s) idle in a transaction for more than {threshold} s" if rows else \
        f"No session idle in a transaction for more than {threshold} s"
    return result("idle_in_transaction", "Idle in transaction", status, summary, rows,
                  "Fix the client that leaves transactions open, set idle_in_transaction_session_timeout, "
                  "or terminate the session.")


def check_vacuum():
    rows = health.tables_needing_vacuum()
    stale = [row for row in rows if row["dead_tuples"] > max(row["live_tuples"], 1) and row["dead_tuples"] > 100000]
    status = RED if stale else AMBER if rows else GREEN
    summary = f"{len(rows)} table(s) past the autovacuum trigger" if rows else "No table is waiting for vacuum"
    return result("vacuum", "Tables needing vacuum", status, summary, rows,
                  "Autovacuum should pick these up; if they stay, check for long transactions, raise "
                  "autovacuum_max_workers or lower the table's autovacuum_vacuum_scale_factor, or run VACUUM.")


def check_replication():
    replicas, slots, standby = replication.replicas(), replication.slots(), replication.standby_status()
    lagging = [r for r in replicas if (r["replay_lag_seconds"] or 0) > 60]
    inactive = [s for s in slots if not s["active"]]
    delay = standby.get("replay_delay_seconds")
    status = RED if lagging or (delay or 0) > 300 else AMBER if inactive or (delay or 0) > 60 else GREEN
    if standby.get("in_recovery"):
        summary = f"This server is a standby, replaying {delay or 0:.0f} s behind its primary"
    elif replicas:
        summary = f"{len(replicas)} replica(s), {len(lagging)} lagging more than 60 s"
    else:
        summary = "No replicas connected"
    if inactive:
        summary += f"; {len(inactive)} inactive replication slot(s) retaining WAL"
    return result("replication", "Replication", status, summary, replicas + slots,
                  "Drop replication slots nobody consumes (pg_drop_replication_slot); check the network and "
                  "the replica's load when replay lag grows.")


def _setting_advice(settings_by_name, connections):
    advice = []
    if settings_by_name.get("autovacuum", {}).get("setting") == "off":
        advice.append((RED, "autovacuum is off: dead rows pile up and wraparound protection depends on it."))
    if settings_by_name.get("fsync", {}).get("setting") == "off":
        advice.append((RED, "fsync is off: a crash can corrupt the database."))
    used = connections / max(int(settings_by_name["max_connections"]["setting"]), 1)
    if used >= 0.8:
        advice.append((RED if used >= 0.95 else AMBER, f"{used:.0%} of max_connections are in use."))
    if settings_by_name.get("shared_buffers", {}).get("source") == "default":
        advice.append((GREEN, "shared_buffers is at its default (128MB); about 25% of RAM is the usual start."))
    if settings_by_name.get("idle_in_transaction_session_timeout", {}).get("setting") == "0":
        advice.append((GREEN, "idle_in_transaction_session_timeout is 0: forgotten transactions are never ended."))
    if settings_by_name.get("track_io_timing", {}).get("setting") == "off":
        advice.append((GREEN, "track_io_timing is off: query stats cannot tell I/O time apart."))
    return advice


def check_settings():
    rows = health.watched_settings()
    connections = sum(row["connections"] for row in activity.state_counts())
    advice = _setting_advice({row["name"]: row for row in rows}, connections)
    levels = [level for level, _text in advice]
    status = RED if RED in levels else AMBER if AMBER in levels else GREEN
    summary = f"{len(advice)} setting(s) worth a look" if advice else "Nothing stands out"
    return result("settings", "Settings worth a look", status, summary, rows,
                  " ".join(text for _level, text in advice))


CHECKS = [check_sequences, check_wraparound, check_idle_in_transaction, check_vacuum, check_replication,
          check_settings]
