"""Alembic's alembic_version table, read and written exactly as Alembic does, through a Django connection."""

VERSION_TABLE = "alembic_version"
# What Alembic itself creates (alembic.ddl.impl / MigrationContext._version): same name, type and PK name.
CREATE_SQL = (
    "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)


class MultipleVersionRows(RuntimeError):
    def __init__(self, rows):
        self.rows = rows
        super().__init__(
            f"alembic_version has {len(rows)} rows ({', '.join(rows)}): pgdeck mirrors one linear history; "
            "fix it with `manage.py alembic stamp REV --purge`"
        )


def table_exists(connection, name=VERSION_TABLE):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{name}"])
        return cursor.fetchone()[0]


def version_rows(connection):
    """Every version_num in alembic_version ([] when the table is missing or empty)."""
    if not table_exists(connection):
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT version_num FROM alembic_version ORDER BY version_num")
        return [row[0] for row in cursor.fetchall()]


def current_version(connection):
    """The one version (None at base); MultipleVersionRows when there are several."""
    rows = version_rows(connection)
    if len(rows) > 1:
        raise MultipleVersionRows(rows)
    return rows[0] if rows else None


def as_rows(revision):
    """The rows alembic_version holds at `revision` (none at base)."""
    return [revision] if revision else []


def _shown(rows):
    return ", ".join(rows) if rows else "empty (base)"


class VersionConflict(RuntimeError):
    """alembic_version does not hold what the writer expected to replace: nothing was written."""

    def __init__(self, found, expected, new, exists=True):
        self.found, self.expected, self.new = found, expected, new
        where = f"holds {_shown(found)}" if exists else "does not exist"
        super().__init__(
            f"alembic_version {where} where {_shown(expected)} was expected (moving to "
            f"{new or 'base'}); nothing was written: another tool moved it — see `manage.py alembic check`")


def guarded_write(connection, expected, new):
    """Compare-and-set: replace exactly the rows `expected` (a list) by `new` (None = base) in alembic_version;
    VersionConflict when the table holds anything else. Returns False when it already holds `new`."""
    exists = table_exists(connection)
    rows = version_rows(connection) if exists else []
    if rows == as_rows(new):
        return False
    if sorted(rows) != sorted(expected) or (expected and not exists):
        raise VersionConflict(rows, expected, new, exists)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_SQL)
        for old in expected:
            # Each DELETE names the row it replaces; a row changed since it was read is a conflict, not lost.
            cursor.execute("DELETE FROM alembic_version WHERE version_num = %s", [old])
            if cursor.rowcount != 1:
                raise VersionConflict(version_rows(connection), expected, new)
        if new:
            cursor.execute("INSERT INTO alembic_version (version_num) VALUES (%s)", [new])
    return True
