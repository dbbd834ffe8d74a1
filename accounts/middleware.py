"""Refuse a logged-in session used from a network its role may not use (accounts/networks.py)."""

from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import render

from accounts.networks import CODE, network_refusal, network_refused_record


class NetworkRulesMiddleware:
    """After AuthenticationMiddleware. API keys are checked where they are read (ApiKeyAuthentication)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            message = network_refusal(request, user)
            if message:
                return self.refuse(request, user, message)
        return self.get_response(request)

    def refuse(self, request, user, message):
        network_refused_record(request, user=user, surface="session")
        logout(request)  # the session cannot be carried to an allowed network either: it was used from here
        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": CODE, "message": message, "details": None}}, status=403)
        return render(request, "network_refused.html", {"message": message}, status=403)
