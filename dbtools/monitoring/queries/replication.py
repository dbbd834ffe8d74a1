"""Replication: connected replicas and their lag, replication slots, and standby lag when we are a replica."""

from dbtools.monitoring.queries.base import fetch_all, fetch_one

# A standby's replay delay in seconds: 0 while its WAL receiver runs and it has replayed all it received, else
# the age of the last commit it replayed. The age alone is wrong on an idle primary: it grows while nothing is
# sent (a caught-up standby turned red after 5 minutes) and is NULL until the first commit is replayed. Without a
# WAL receiver (the primary gone, or archive recovery) "replayed all it received" says nothing: the age, or NULL.
STANDBY_DELAY_SQL = ("CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()"
                     " AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0"
                     " ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END")


def replicas():
    """Replicas streaming from this server (empty on a standalone server or a standby)."""
    return fetch_all(
        "SELECT pid, application_name, host(client_addr) AS client_addr, state, sync_state,"
        " extract(epoch FROM write_lag)::float AS write_lag_seconds,"
        " extract(epoch FROM flush_lag)::float AS flush_lag_seconds,"
        " extract(epoch FROM replay_lag)::float AS replay_lag_seconds,"
        " CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END"
        "   AS replay_lag_bytes"
        " FROM pg_stat_replication ORDER BY application_name"
    )


def slots():
    """Slots retain WAL until their consumer catches up; an inactive slot can fill the disk."""
    return fetch_all(
        "SELECT slot_name, slot_type, database, active, wal_status,"
        " CASE WHEN NOT pg_is_in_recovery() THEN pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint END"
        "   AS retained_bytes"
        " FROM pg_replication_slots ORDER BY slot_name"
    )


def standby_status():
    return fetch_one(
        "SELECT pg_is_in_recovery() AS in_recovery,"
        f" CASE WHEN pg_is_in_recovery() THEN ({STANDBY_DELAY_SQL})::float END AS replay_delay_seconds"
    )
