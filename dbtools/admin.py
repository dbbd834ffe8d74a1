from dbtools.backups import admin as backups_admin  # noqa: F401
