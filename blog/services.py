"""Writes for the blog tables: bulk demo data through COPY, and audited changes from the admin and the API."""

import random
import secrets

from django.db import connection, transaction

WORDS = ("postgres index vacuum query planner tuple replica backup restore schema table column "
         "cursor lock transaction snapshot wal checkpoint buffer cache estimate").split()
CHUNK = 50_000
AUDIT_IDS = 100  # ids listed in one audit event; `rows` has the full count


def _paragraph(rng, words=24):
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _copy_rows(cursor, copy_sql, rows, progress, finishing=lambda: None):
    """Stream pre-formatted text lines through COPY FROM STDIN in chunks (no per-row round trips).

    `finishing` is called once every row is sent: the server then still checks foreign keys and updates
    indexes before COPY returns (seconds for a million rows)."""
    with cursor.copy(copy_sql) as copy:
        buffer = []
        for line in rows:
            buffer.append(line)
            if len(buffer) >= CHUNK:
                copy.write("".join(buffer))
                progress(len(buffer))
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
            progress(len(buffer))
        finishing()


def blog_reset():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE posts, users RESTART IDENTITY")


def blog_seed(*, users, posts, progress=lambda n: None, seed=None, stage=lambda message: None):
    """Insert `users` users and `posts` posts spread over existing and new users; returns (users, posts) added.

    `stage(message)` says what runs after the last row is sent (foreign keys and indexes, ANALYZE)."""
    rng = random.Random(seed)
    tag = secrets.token_hex(3)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg cursor: Django's wrapper has no copy()
        user_lines = (f"u{tag}_{i}\tu{tag}_{i}@example.com\t{'t' if rng.random() > 0.1 else 'f'}\n"
                      for i in range(users))
        _copy_rows(raw, "COPY users (username, email, is_active) FROM STDIN", user_lines, progress)
        cursor.execute("SELECT min(id), max(id) FROM users")
        low, high = cursor.fetchone()
        if posts and low is None:
            raise ValueError("posts need users: add --users N")
        post_lines = (f"Post {i} about {rng.choice(WORDS)}\t{_paragraph(rng)}\t{rng.randint(low, high)}\t"
                      f"{'t' if rng.random() > 0.5 else 'f'}\n" for i in range(posts))
        _copy_rows(raw, "COPY posts (title, content, user_id, is_published) FROM STDIN", post_lines, progress,
                   lambda: stage("Checking the posts' user_id foreign keys and updating the indexes…"))
        # Fresh statistics so the planner-based counts in the admin are right at once.
        stage("ANALYZE users, posts (planner statistics for the admin's counts)…")
        cursor.execute("ANALYZE users")
        cursor.execute("ANALYZE posts")
        stage("Committing…")
    return users, posts


def _audit_target(model, ids, count):
    table = model._meta.db_table
    return f"{table}:{ids[0]}" if count == 1 and ids else f"{table}: {count} rows"


def blog_record_save(*, request, instance, created, fields=()):
    """Audit a post or user created or changed through the admin or the API (call inside the write's transaction)."""
    from core.audit import audit_record

    action = f"blog.{instance._meta.model_name}.{'create' if created else 'update'}"
    audit_record(action, request=request, target=_audit_target(type(instance), [instance.pk], 1),
                 fields=sorted(fields))


def blog_update(*, request, queryset, **values):
    """One UPDATE of `values` (and updated_at) on the rows of queryset, audited; returns the row count."""
    from django.db.models.functions import Now

    from core.audit import audit_record

    model = queryset.model
    with transaction.atomic():
        sample = list(queryset.order_by("pk").values_list("pk", flat=True)[:AUDIT_IDS])
        count = queryset.update(**values, updated_at=Now())
        audit_record(f"blog.{model._meta.model_name}.update", request=request,
                     target=_audit_target(model, sample, count), fields=sorted(values), ids=sample, rows=count)
    return count


def blog_posts_of_users(users):
    """How many posts PostgreSQL's ON DELETE CASCADE removes with these users (a queryset or a list)."""
    from blog.models import Post

    return Post.objects.filter(user__in=users).count()


def blog_delete(*, request, queryset):
    """One DELETE of the rows of queryset, audited; users take their posts with them (ON DELETE CASCADE, the
    model's FK is DO_NOTHING). Returns (rows, cascaded posts)."""
    from blog.models import BlogUser
    from core.audit import audit_record

    model = queryset.model
    with transaction.atomic():
        sample = list(queryset.order_by("pk").values_list("pk", flat=True)[:AUDIT_IDS])
        posts = blog_posts_of_users(queryset.values("pk")) if model is BlogUser else 0
        count = queryset.order_by().delete()[0]
        details = {"posts": posts} if model is BlogUser else {}
        audit_record(f"blog.{model._meta.model_name}.delete", request=request,
                     target=_audit_target(model, sample, count), ids=sample, rows=count, **details)
    return count, posts
