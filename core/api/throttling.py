"""Rate limits: one cache counter per client and time window, so a request costs the same at any rate.

DRF's SimpleRateThrottle keeps every request time of the last window in one cache entry and rewrites it on
each request: at 6,000/min that is a 6,000-item list pickled per request. A fixed-window counter
(cache.add + cache.incr) is constant cost; the price is that a burst may straddle two windows.
"""

import time

from rest_framework.throttling import SimpleRateThrottle

from config.networks import client_ip
from core.api.credentials import ScopedCredential


class FixedWindowRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        if self.cache.add(key, 1, self.duration + 1):
            return True
        try:
            count = self.cache.incr(key)
        except ValueError:  # the entry expired between add and incr: this request opens the window
            self.cache.add(key, 1, self.duration + 1)
            return True
        return count <= self.num_requests

    def wait(self):
        return max(1.0, self.window_ends - time.time())

    def get_ident(self, request):
        """The address config.networks trusts (DRF's own reading believes any X-Forwarded-For)."""
        return client_ip(request) or "unknown"


class ApiKeyRateThrottle(FixedWindowRateThrottle):
    """Rate per API key (session users are throttled per user id)."""

    scope = "apikey"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ScopedCredential):
            ident = f"key:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(FixedWindowRateThrottle):
    """Rate per client address for unauthenticated requests (and failed key attempts)."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
