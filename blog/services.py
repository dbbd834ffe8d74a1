"""Writes for the blog tables: bulk demo data through COPY."""

import random
import secrets

from django.db import connection, transaction

WORDS = ("postgres index vacuum query planner tuple replica backup restore schema table column "
         "cursor lock transaction snapshot wal checkpoint buffer cache estimate").split()
CHUNK = 50_000


def _paragraph(rng, words=24):
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _copy_rows(cursor, copy_sql, rows, progress):
    """Stream pre-formatted text lines through COPY FROM STDIN in chunks (no per-row round trips)."""
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


def blog_reset():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE posts, users RESTART IDENTITY")


def blog_seed(*, users, posts, progress=lambda n: None, seed=None):
    """Insert `users` users and `posts` posts spread over existing and new users; returns (users, posts) added."""
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
        _copy_rows(raw, "COPY posts (title, content, user_id, is_published) FROM STDIN", post_lines, progress)
        # Fresh statistics so the planner-based counts in the admin are right at once.
        cursor.execute("ANALYZE users")
        cursor.execute("ANALYZE posts")
    return users, posts
