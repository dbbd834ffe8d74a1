"""dbtools ModelAdmins; each feature registers its own in its package and is imported here."""

from dbtools.migrations_bridge import admin as migrations_admin  # noqa: F401
