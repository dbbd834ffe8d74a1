"""`target_badge` for every template: the target the page is about (`?target=NAME`, else "default") and its
environment, for targets/badge.html (production red, staging orange, dev green). Signed-in staff only.

Lazy: nothing (not even request.user, which reads the session) is evaluated unless a template shows the badge,
so pages rendered while the database is down (the 503 page) stay database-free."""

import re

import psycopg
from django.conf import settings
from django.db import DatabaseError
from django.utils.functional import SimpleLazyObject

from targets.models import DEFAULT, NAME_RE, Target

NAME = re.compile(NAME_RE)


def badge_for(name):
    if name == DEFAULT:
        return {"name": DEFAULT, "environment": settings.DEFAULT_TARGET_ENVIRONMENT}
    environment = Target.objects.filter(name=name).values_list("environment", flat=True).first()
    return {"name": name, "environment": environment} if environment else None


def _badge(request):
    try:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_staff:
            return None
        name = request.GET.get("target") or DEFAULT
        return badge_for(name) if NAME.fullmatch(name) else None
    except (DatabaseError, psycopg.Error):  # session or target unreadable: no badge, no error page
        return None


def target_badge(request):
    return {"target_badge": SimpleLazyObject(lambda: _badge(request) or {})}
