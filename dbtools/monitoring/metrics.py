"""/metrics for Prometheus: a custom collector that queries PostgreSQL on each scrape (nothing is cached).

Access: a client address in METRICS_ALLOWED_IPS (addresses or CIDR networks, matched against REMOTE_ADDR only,
never X-Forwarded-For) or an API key (Authorization: Bearer …) whose owner has dbtools.view_monitoring and whose
scopes cover it (read or monitor).
"""

import ipaddress
import logging

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from rest_framework.exceptions import APIException, AuthenticationFailed

from accounts.api.authentication import ApiKeyAuthentication
from accounts.roles import scope_allows
from dbtools.monitoring import selectors
from dbtools.monitoring.queries import activity, overview
from dbtools.monitoring.queries.base import MonitoringQueryError

logger = logging.getLogger("pgdeck.monitoring")
PERMISSION = "dbtools.view_monitoring"
COUNTERS = ["xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
            "tup_deleted", "blks_read", "blks_hit", "deadlocks"]


DEFAULT = {"target": "default"}


def _gauge(name, documentation, value, labels=None):
    labels = {**DEFAULT, **(labels or {})}
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


def _database_metrics():
    """The default target (the app's own database), through the monitoring queries, as before; target="default"."""
    server, counters = selectors.server_get(), overview.database_counters()
    cache = selectors.cache_hit_ratios_cached()
    long_blocked = activity.counts_for_metrics(settings.MONITORING_LONG_QUERY_SECONDS)
    yield _gauge("pgdeck_pg_database_size_bytes", "Size of the database (cached MONITORING_SIZE_CACHE_SECONDS).",
                 server["database_bytes"])
    yield _gauge("pgdeck_pg_max_connections", "max_connections of the server.", server["max_connections"])
    connections = GaugeMetricFamily("pgdeck_pg_connections", "Client connections by state.",
                                    labels=["target", "state"])
    for row in activity.state_counts():
        connections.add_metric(["default", row["state"]], row["connections"])
    yield connections
    hit = GaugeMetricFamily("pgdeck_pg_cache_hit_ratio", "Buffer cache hit ratio of user tables/indexes.",
                            labels=["target", "kind"])
    for kind in ("table", "index"):
        if cache[f"{kind}_hit_ratio"] is not None:
            hit.add_metric(["default", kind], cache[f"{kind}_hit_ratio"])
    yield hit
    for name in COUNTERS:
        family = CounterMetricFamily(f"pgdeck_pg_{name}", f"pg_stat_database.{name} of this database.",
                                     labels=["target"])
        family.add_metric(["default"], counters[name])
        yield family
    yield _gauge("pgdeck_pg_long_running_queries",
                 "Active statements running longer than MONITORING_LONG_QUERY_SECONDS.", long_blocked["long_running"])
    yield _gauge("pgdeck_pg_blocked_backends", "Backends waiting on a lock held by another backend.",
                 long_blocked["blocked"])


# Series of the other registered targets, from the fleet probes (figures server-wide; None is left out).
FLEET_SERIES = [
    ("pgdeck_pg_max_connections", "max_connections", "max_connections of the server."),
    ("pgdeck_pg_database_size_bytes", "database_bytes", "Size of the database."),
    ("pgdeck_pg_long_running_queries", "long_running",
     "Active statements running longer than MONITORING_LONG_QUERY_SECONDS."),
    ("pgdeck_pg_blocked_backends", "blocked", "Backends waiting on a lock held by another backend."),
]
# Series every target has, the default one included (from the fleet probes).
FLEET_ALL = [
    ("pgdeck_pg_client_connections", "connections", "Client connections of the server (every database)."),
    ("pgdeck_pg_database_cache_hit_ratio", "cache_hit_ratio", "Buffer cache hit ratio of the whole database."),
    ("pgdeck_pg_replication_lag_seconds", "replication_lag_seconds",
     "Standby: replay delay; primary: largest replay lag of its replicas."),
]


def _fleet_metrics(rows):
    status = GaugeMetricFamily("pgdeck_target_status", "1 for the target's status in the fleet probe.",
                               labels=["target", "status"])
    for row in rows:
        for name in ("up", "slow", "down"):
            status.add_metric([row["target"], name], 1 if row["status"] == name else 0)
    yield status
    duplicates = [row for row in rows if row["duplicate_of"]]
    if duplicates:
        family = GaugeMetricFamily("pgdeck_target_duplicate", "1: this target is the same database as `of`; its "
                                   "figures are left out so sums count the database once.", labels=["target", "of"])
        for row in duplicates:
            family.add_metric([row["target"], row["duplicate_of"]], 1)
        yield family
    rows = [row for row in rows if not row["duplicate_of"]]
    others = [row for row in rows if row["target"] != "default"]
    for series, key, documentation in FLEET_SERIES + FLEET_ALL:
        family = GaugeMetricFamily(series, documentation, labels=["target"])
        chosen = rows if (series, key, documentation) in FLEET_ALL else others
        for row in chosen:
            if row[key] is not None:
                family.add_metric([row["target"]], row[key])
        yield family


def _merge(families):
    """One family per name (Prometheus' text format wants each name once): samples of equal names joined."""
    merged = {}
    for family in families:
        if family.name in merged:
            merged[family.name].samples.extend(family.samples)
        else:
            merged[family.name] = family
    return list(merged.values())


class PostgresCollector:
    def __init__(self, fleet_rows=(), with_default=True):
        self.fleet_rows = list(fleet_rows)
        self.with_default = with_default  # False: a key limited to other targets sees none of the app's series

    def collect(self):
        yield from _merge(self._families())

    def _families(self):
        up_family = GaugeMetricFamily("pgdeck_pg_up", "1 when the target answered during this scrape.",
                                      labels=["target"])
        if self.with_default:
            up = 1
            try:
                yield from list(_database_metrics())
            except MonitoringQueryError as exc:
                logger.warning("metrics scrape: %s", exc)
                up = 0
            up_family.add_metric(["default"], up)
        for row in self.fleet_rows:
            if row["target"] != "default":
                up_family.add_metric([row["target"]], 0 if row["status"] == "down" or row["version"] is None else 1)
        yield up_family
        if self.fleet_rows:
            yield from _fleet_metrics(self.fleet_rows)
        pool = selectors.pool_stats() if self.with_default else None
        if pool is not None:
            family = GaugeMetricFamily("pgdeck_pool_connections", "pgdeck's own psycopg pool.",
                                       labels=["target", "kind"])
            for kind in ("size", "available", "waiting", "min", "max"):
                family.add_metric(["default", kind], pool[kind] or 0)
            yield family


def _ip_allowed(address):
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if client in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            logger.warning("METRICS_ALLOWED_IPS: ignoring %r, not an address or network", entry)
    return False


def _key_allowed(request):
    """(allowed, status, user, key): 401 for a missing/bad key, 403 for a key without the permission or scope."""
    try:
        result = ApiKeyAuthentication().authenticate(request)
    except AuthenticationFailed:
        return False, 401, None, None
    except APIException as exc:  # a valid key from a network it is not bound to (network_not_allowed), a 429
        return False, exc.status_code, None, None
    if result is None:
        return False, 401, None, None
    user, key = result
    if user.is_active and user.has_perm(PERMISSION) and scope_allows(key.scopes, PERMISSION):
        return True, 200, user, key
    return False, 403, None, None


def metrics_view(request):
    """Every target the scraper may monitor, each series labelled `target`: an allowed address sees them all, a
    key what its owner may monitor and, when the key is limited to some targets (ApiKey.targets), only those."""
    user = key = None
    if not _ip_allowed(request.META.get("REMOTE_ADDR")):
        allowed, status, user, key = _key_allowed(request)
        if not allowed:
            message = {401: "metrics need an API key with the read or monitor scope",
                       429: "too many failed key attempts; try again later"}.get(
                status, "this API key may not read monitoring metrics from here")
            response = HttpResponse(message + "\n", status=status, content_type="text/plain")
            if status == 401:
                response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    registry = CollectorRegistry(auto_describe=False)
    allows = key.allows_target if key is not None else None
    registry.register(PostgresCollector(selectors.fleet_overview(user, allowed=allows),
                                        with_default=allows is None or allows("default")))
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
