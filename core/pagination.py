"""A paginator that asks the planner for large counts instead of running COUNT(*) over millions of rows."""

import json

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


def planner_row_estimate(queryset):
    """The planner's row estimate for `queryset` (EXPLAIN, no execution); reltuples-based for a bare table."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Exact counts for small results; above ESTIMATED_COUNT_THRESHOLD rows the planner's estimate.

    One EXPLAIN replaces COUNT(*): on 1M rows that is a fraction of a millisecond instead of a full scan.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return len(queryset)
        estimate = planner_row_estimate(queryset.order_by())
        if estimate < settings.ESTIMATED_COUNT_THRESHOLD:
            return queryset.count()
        self.is_estimate = True
        return estimate

    is_estimate = False
