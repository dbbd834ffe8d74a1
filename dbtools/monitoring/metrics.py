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


def _gauge(name, documentation, value, labels=None):
    family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
    if labels:
        family.add_metric(list(labels.values()), value)
    else:
        family.add_metric([], value)
    return family


def _database_metrics():
    server, counters = selectors.server_get(), overview.database_counters()
    cache = selectors.cache_hit_ratios_cached()
    long_blocked = activity.counts_for_metrics(settings.MONITORING_LONG_QUERY_SECONDS)
    yield _gauge("pgdeck_pg_database_size_bytes", "Size of the database (cached MONITORING_SIZE_CACHE_SECONDS).",
                 server["database_bytes"])
    yield _gauge("pgdeck_pg_max_connections", "max_connections of the server.", server["max_connections"])
    connections = GaugeMetricFamily("pgdeck_pg_connections", "Client connections by state.", labels=["state"])
    for row in activity.state_counts():
        connections.add_metric([row["state"]], row["connections"])
    yield connections
    hit = GaugeMetricFamily("pgdeck_pg_cache_hit_ratio", "Buffer cache hit ratio of user tables/indexes.",
                            labels=["kind"])
    for kind in ("table", "index"):
        if cache[f"{kind}_hit_ratio"] is not None:
            hit.add_metric([kind], cache[f"{kind}_hit_ratio"])
    yield hit
    for name in COUNTERS:
        yield CounterMetricFamily(f"pgdeck_pg_{name}", f"pg_stat_database.{name} of this database.",
                                  value=counters[name])
    yield _gauge("pgdeck_pg_long_running_queries",
                 "Active statements running longer than MONITORING_LONG_QUERY_SECONDS.", long_blocked["long_running"])
    yield _gauge("pgdeck_pg_blocked_backends", "Backends waiting on a lock held by another backend.",
                 long_blocked["blocked"])


class PostgresCollector:
    def collect(self):
        up = 1
        try:
            yield from list(_database_metrics())
        except MonitoringQueryError as exc:
            logger.warning("metrics scrape: %s", exc)
            up = 0
        yield _gauge("pgdeck_pg_up", "1 when the monitoring queries answered during this scrape.", up)
        pool = selectors.pool_stats()
        if pool is not None:
            family = GaugeMetricFamily("pgdeck_pool_connections", "pgdeck's own psycopg pool.", labels=["kind"])
            for kind in ("size", "available", "waiting", "min", "max"):
                family.add_metric([kind], pool[kind] or 0)
            yield family


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(PostgresCollector())


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
    """(allowed, status): 401 for a missing/bad key, 403 for a key without the permission or scope."""
    try:
        result = ApiKeyAuthentication().authenticate(request)
    except AuthenticationFailed:
        return False, 401
    except APIException as exc:  # a valid key from a network it is not bound to (network_not_allowed), a 429
        return False, exc.status_code
    if result is None:
        return False, 401
    user, key = result
    if user.is_active and user.has_perm(PERMISSION) and scope_allows(key.scopes, PERMISSION):
        return True, 200
    return False, 403


def metrics_view(request):
    if not _ip_allowed(request.META.get("REMOTE_ADDR")):
        allowed, status = _key_allowed(request)
        if not allowed:
            message = {401: "metrics need an API key with the read or monitor scope",
                       429: "too many failed key attempts; try again later"}.get(
                status, "this API key may not read monitoring metrics from here")
            response = HttpResponse(message + "\n", status=status, content_type="text/plain")
            if status == 401:
                response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
