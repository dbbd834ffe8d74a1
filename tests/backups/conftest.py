"""Scratch databases on the same server as the test database, each with a unique name and always dropped."""

import uuid

import pytest

from dbtools.backups.tools import connect, create_database, drop_database

SEED_SQL = """
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE articles (id serial PRIMARY KEY, author_id int NOT NULL REFERENCES authors(id),
                       title text NOT NULL, body text, published boolean DEFAULT false);
CREATE INDEX articles_author ON articles (author_id);
CREATE SCHEMA extra;
CREATE TABLE extra."Odd Name" (x int, note text);
INSERT INTO authors (name) SELECT 'author ' || g FROM generate_series(1, 50) g;
INSERT INTO articles (author_id, title, body, published)
  SELECT 1 + g % 50, 'title ' || g, repeat(md5(g::text), 4), g % 3 = 0 FROM generate_series(1, 700) g;
INSERT INTO extra."Odd Name" SELECT g, 'secret-marker-' || g FROM generate_series(1, 30) g;
"""


def unique_name(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def run_sql(dbname, text, params=None):
    with connect(dbname) as conn:
        cursor = conn.execute(text, params)
        return cursor.fetchall() if cursor.description else None


def table_counts(dbname):
    rows = run_sql(dbname, "SELECT (SELECT count(*) FROM authors), (SELECT count(*) FROM articles), "
                           "(SELECT count(*) FROM extra.\"Odd Name\")")
    return rows[0]


def sample_rows(dbname):
    return run_sql(dbname, "SELECT id, author_id, title, body, published FROM articles "
                           "WHERE id IN (1, 2, 3, 350, 699, 700) ORDER BY id")


@pytest.fixture
def databases():
    """databases.new(seed=True) → a fresh database name; every name handed out is dropped afterwards."""

    class Databases:
        names = []

        def new(self, seed=False, create=True):
            name = unique_name("pgdeck_bt")
            self.names.append(name)
            if create:
                create_database(name)
                if seed:
                    run_sql(name, SEED_SQL)
            return name

        def reserve(self):
            return self.new(create=False)

    dbs = Databases()
    dbs.names = []
    yield dbs
    for name in dbs.names:
        drop_database(name)


@pytest.fixture
def source_db(databases):
    return databases.new(seed=True)


@pytest.fixture
def backup_dir(settings, tmp_path):
    path = tmp_path / "backups"
    path.mkdir()
    settings.BACKUP_DIR = path
    settings.BACKUP_ENCRYPTION_KEY = ""
    return path


@pytest.fixture
def scratch_names(monkeypatch):
    """The scratch database names this test's verify runs used (other xdist workers verify at the same time,
    so a server-wide list of pgdeck_verify_* databases is not this test's to compare)."""
    from dbtools.backups import restoring

    names, original = [], restoring._scratch_name
    monkeypatch.setattr(restoring, "_scratch_name", lambda: names.append(original()) or names[-1])
    return names


def scratch_databases():
    rows = run_sql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'pgdeck_verify_%'")
    return [row[0] for row in rows]
