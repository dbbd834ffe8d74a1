"""Scheduled saved queries: run as the query's owner (their own query role and limits), keep the last N
results, optionally mail them as CSV through Django's email backend."""

import csv
import io

from django.conf import settings
from django.core.mail import EmailMessage

from dbtools.query.errors import QueryError
from dbtools.query.runner import run_query
from jobs.errors import JobError
from jobs.models import QuerySnapshot

SNAPSHOT_ROW_LIMIT = 1000


def _csv(columns, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c["name"] for c in columns])
    writer.writerows(rows)
    return out.getvalue()


def _plain(value):
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def snapshot_take(schedule, tracker):
    saved = schedule.saved_query
    if saved is None:
        raise JobError(f"schedule {schedule.name}: its saved query was deleted")
    owner = saved.owner
    if not owner.is_active or not owner.has_perm("dbtools.run_query"):
        raise JobError(f"schedule {schedule.name}: the owner {owner.username} may no longer run queries")
    tracker.log(f"running saved query {saved.name!r} as {owner.username}")
    try:
        result = run_query(user=owner, sql=saved.sql, mode="read", limit=SNAPSHOT_ROW_LIMIT, target=saved.target)
    except QueryError as exc:
        raise JobError(f"schedule {schedule.name}: {exc}") from None
    rows = [[_plain(v) for v in row] for row in result.rows]
    snap = QuerySnapshot.objects.create(schedule=schedule, saved_query=saved, columns=result.columns, rows=rows,
                                        row_count=result.row_count, truncated=result.truncated)
    keep = max(schedule.keep_last, 1)
    old = schedule.snapshots.order_by("-taken_at", "-pk").values_list("pk", flat=True)[keep:]
    QuerySnapshot.objects.filter(pk__in=list(old)).delete()
    recipients = [a.strip() for a in schedule.email_to.split(",") if a.strip()]
    if recipients:
        message = EmailMessage(subject=f"[pgdeck] {saved.name}: {result.row_count} row(s)",
                               body=f"The scheduled run of {saved.name!r} is attached as CSV.",
                               from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
        message.attach(f"{schedule.name}.csv", _csv(result.columns, rows), "text/csv")
        message.send()
        tracker.log(f"mailed to {len(recipients)} recipient(s)")
    return {"snapshot": snap.pk, "rows": result.row_count, "truncated": result.truncated}
