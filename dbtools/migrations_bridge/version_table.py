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


def write_version(connection, revision):
    """Make alembic_version hold exactly `revision` (no row for None, like Alembic at base)."""
    with connection.cursor() as cursor:
        cursor.execute(CREATE_SQL)
        cursor.execute("SELECT version_num FROM alembic_version")
        if [row[0] for row in cursor.fetchall()] == ([revision] if revision else []):
            return False
        cursor.execute("DELETE FROM alembic_version")
        if revision:
            cursor.execute("INSERT INTO alembic_version (version_num) VALUES (%s)", [revision])
    return True
