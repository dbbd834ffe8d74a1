"""pg_stat_statements history: deltas per snapshot in a table partitioned by day, hourly and daily roll-ups.

Raw SQL because Django has no declarative partitioning; dbtools.monitoring.history.partitions creates the daily
partitions ahead of time and drops them by retention (MONITORING_RETENTION_DAYS).
"""

from django.db import migrations

CREATE = """
CREATE TABLE statement_snapshots (
    id bigserial PRIMARY KEY,
    taken_at timestamptz NOT NULL,
    server_started timestamptz,
    stats_reset timestamptz,
    statements integer NOT NULL DEFAULT 0,
    reset_detected boolean NOT NULL DEFAULT false
);
CREATE INDEX statement_snapshots_taken_at ON statement_snapshots (taken_at);

CREATE TABLE statement_counters (
    queryid bigint PRIMARY KEY,
    calls bigint NOT NULL,
    total_ms double precision NOT NULL,
    rows bigint NOT NULL,
    blks_hit bigint NOT NULL,
    blks_read bigint NOT NULL
);

CREATE TABLE statement_texts (
    queryid bigint PRIMARY KEY,
    query text NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL
);

CREATE TABLE statement_history (
    taken_at timestamptz NOT NULL,
    queryid bigint NOT NULL,
    calls bigint NOT NULL,
    total_ms double precision NOT NULL,
    rows bigint NOT NULL,
    blks_hit bigint NOT NULL,
    blks_read bigint NOT NULL
) PARTITION BY RANGE (taken_at);
CREATE INDEX statement_history_taken_at ON statement_history (taken_at, queryid);
CREATE INDEX statement_history_queryid ON statement_history (queryid, taken_at);

CREATE TABLE statement_history_hourly (
    bucket timestamptz NOT NULL,
    queryid bigint NOT NULL,
    calls bigint NOT NULL,
    total_ms double precision NOT NULL,
    rows bigint NOT NULL,
    blks_hit bigint NOT NULL,
    blks_read bigint NOT NULL,
    PRIMARY KEY (bucket, queryid)
) PARTITION BY RANGE (bucket);
CREATE INDEX statement_history_hourly_queryid ON statement_history_hourly (queryid, bucket);

CREATE TABLE statement_history_daily (
    bucket timestamptz NOT NULL,
    queryid bigint NOT NULL,
    calls bigint NOT NULL,
    total_ms double precision NOT NULL,
    rows bigint NOT NULL,
    blks_hit bigint NOT NULL,
    blks_read bigint NOT NULL,
    PRIMARY KEY (bucket, queryid)
);
CREATE INDEX statement_history_daily_queryid ON statement_history_daily (queryid, bucket);
"""

DROP = """
DROP TABLE IF EXISTS statement_history_daily, statement_history_hourly, statement_history, statement_texts,
    statement_counters, statement_snapshots;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("dbtools", "0003_monitoring_permissions"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
