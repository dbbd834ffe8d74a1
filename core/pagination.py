"""A paginator that asks the planner for large counts instead of running COUNT(*) over millions of rows."""

import json

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def planner_row_estimate(queryset):
    """The planner's row estimate for `queryset` (EXPLAIN, no execution); reltuples-based for a bare table."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]: Django knows without asking the server
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact counts for small results; above ESTIMATED_COUNT_THRESHOLD rows the planner's estimate.

    One EXPLAIN replaces COUNT(*): on 1M rows that is a fraction of a millisecond instead of a full scan. A caller
    that already knows the exact count (a search that fetched its ids) passes it as known_count: no query at all.
    """

    def __init__(self, *args, known_count=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self):
        if self.known_count is not None:
            return self.known_count
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        estimate = planner_row_estimate(queryset.order_by())
        if estimate < settings.ESTIMATED_COUNT_THRESHOLD:
            return queryset.count()
        self.is_estimate = True
        return estimate

    is_estimate = False
