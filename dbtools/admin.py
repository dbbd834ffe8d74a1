"""Registers dbtools' ModelAdmins; each feature registers its own in its package and is imported here."""

import dbtools.audit_admin  # noqa: F401
import dbtools.backups.admin  # noqa: F401
import dbtools.migrations_bridge.admin  # noqa: F401
import dbtools.query.admin  # noqa: F401
