"""What a login refused for password guessing answers (django-axes calls this)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def lockout_response(
    request: HttpRequest, credentials: dict | None = None, *args: object, **kwargs: object
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"too many wrong passwords for this account or from this address: logins are refused for {minutes} minutes; "
        "try again later, or ask staff to unlock the account"
    )
    retry = {"Retry-After": str(int(settings.AXES_COOLOFF_TIME.total_seconds()))}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429, headers=retry)
    return HttpResponse(message.capitalize() + ".", status=429, content_type="text/plain; charset=utf-8", headers=retry)
