"""`target_badge` for every template: the target the page is about (`?target=NAME`, else "default") and its
environment, for targets/badge.html (production red, staging orange, dev green). Signed-in users only."""

import re

from targets.errors import TargetError
from targets.models import DEFAULT, NAME_RE, Target

NAME = re.compile(NAME_RE)


def badge_for(name):
    from django.conf import settings

    if name == DEFAULT:
        return {"name": DEFAULT, "environment": settings.DEFAULT_TARGET_ENVIRONMENT}
    environment = Target.objects.filter(name=name).values_list("environment", flat=True).first()
    return {"name": name, "environment": environment} if environment else None


def target_badge(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    name = request.GET.get("target") or DEFAULT
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return {"target_badge": None}
    try:
        return {"target_badge": badge_for(name)}
    except TargetError:
        return {"target_badge": None}
