"""Who sees which backends and how much of their SQL: the role (and an API key's scopes) decide, once per request.

Every role sees only backends of the app's own database (the queries filter on current_database()). Within it:
- dbtools.view_all_backends: every session; without it (analysts) only one's own running editor queries;
- dbtools.view_query_text: the SQL as PostgreSQL shows it; without it a fingerprint (constants → $n).
"""

from dataclasses import dataclass

from core.api.permissions import key_allows
from dbtools.models import QueryHistory
from dbtools.monitoring.queries.base import current_target
from dbtools.monitoring.redaction import shown_query

EDITOR_APPLICATION = "pgdeck-query"  # dbtools.query.connection sets it on every editor connection


@dataclass(frozen=True)
class Visibility:
    query_text: bool = False
    own_pids: tuple | None = ()  # None: every backend of the database; a tuple: only these editor backends

    @property
    def all_backends(self):
        return self.own_pids is None

    def query(self, text):
        return shown_query(text, full=self.query_text)

    def allows(self, row):
        return self.all_backends or (row.get("pid") in self.own_pids
                                     and row.get("application_name") == EDITOR_APPLICATION)

    def shape(self, rows, key="query"):
        """Rows this viewer may see, with their SQL as this viewer may read it."""
        return [{**row, key: self.query(row.get(key))} for row in rows if self.allows(row)]


NOTHING = Visibility()  # the selectors' default: a caller that forgets to say who is looking sees no session


def _granted(request, perm):
    user = request.user
    return bool(user.is_authenticated and user.has_perm(perm) and key_allows(request, perm))


def visibility_for(request, target=None):
    """What this request may see of the backends of `target` (its own editor runs are those on that target);
    default: the target the monitoring queries run on now."""
    target = target or current_target()
    if _granted(request, "dbtools.view_all_backends"):
        own = None
    else:
        own = tuple(QueryHistory.objects.filter(user=request.user, status="running", backend_pid__isnull=False,
                                                target=target).values_list("backend_pid", flat=True))
    return Visibility(query_text=_granted(request, "dbtools.view_query_text"), own_pids=own)
