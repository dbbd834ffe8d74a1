"""Moved to core.pagination (issue 19); kept so code written against the old path still imports."""

from core.pagination import *  # noqa: F401,F403
