"""API conventions shared by every app: error bodies and the file renderers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import renderers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from course import errors

# The one place where a domain error becomes an HTTP status.
HTTP_STATUS: dict[type[errors.ServiceError], int] = {
    errors.Invalid: 400,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}


def http_status(exc: errors.ServiceError) -> int:
    return next((code for kind, code in HTTP_STATUS.items() if isinstance(exc, kind)), 400)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus domain errors; every error body is ``{"detail": "..."}``."""
    if isinstance(exc, errors.ServiceError):
        headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else {}
        return Response({"detail": exc.message}, status=http_status(exc), headers=headers)
    return drf_exception_handler(exc, context)


class ErrorsAsJsonMixin:
    """For views with file formats: an error is ``{"detail": ...}`` as JSON, never a broken file."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = renderers.JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = renderers.JSONRenderer.media_type  # type: ignore[attr-defined]
        return response


class _FileRenderer(renderers.BaseRenderer):
    """For views that build the file themselves: the response's data is the file's bytes or text."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data.encode("utf-8") if isinstance(data, str) else data


class CSVFileRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class ZipFileRenderer(_FileRenderer):
    media_type = "application/zip"
    format = "zip"
    charset = None


class CourseAutoSchema(AutoSchema):
    """Views nest their own ``InputSerializer``/``OutputSerializer``: each gets a component named
    after its view (``TokenApi.InputSerializer`` -> ``TokenInput``) instead of one shared ``Input``."""

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        return type(serializer).__qualname__.replace("Api.", "").replace(".", "")
