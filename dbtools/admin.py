"""Registers dbtools' ModelAdmins; each feature adds one import line here."""

import dbtools.query.admin  # noqa: F401
