"""Registers dbtools' ModelAdmins; each feature adds one import line here."""

import dbtools.audit_admin  # noqa: F401
import dbtools.query.admin  # noqa: F401
from dbtools.backups import admin as backups_admin  # noqa: F401
