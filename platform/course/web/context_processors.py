"""What every page's header needs to know."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, bool]:
    # The time report's link only where following it would not end on "forbidden".
    user = request.user
    return {"time_report_open": settings.TIME_REPORT_PUBLIC or (user.is_authenticated and user.is_course_staff)}
