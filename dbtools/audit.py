"""Moved to core.audit (issue 19); kept so code written against the old path still imports."""

from core.audit import *  # noqa: F401,F403
from core.audit import audit_record, audit_record_aggregated  # noqa: F401
