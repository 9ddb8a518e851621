"""Domain errors: what a business rule refused, in the domain's words. Services raise these; the API
(``course.config.api``) and the pages map them to HTTP, so no service knows a status code."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule refused the request; the message is written for the person who made it."""

    def __init__(self, message: str, *, retry_after_s: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s


class Invalid(ServiceError):
    """The request is malformed or names something that is not valid."""


class Forbidden(ServiceError):
    """The user's role does not allow this."""


class NotFound(ServiceError):
    """Nothing of that name exists (or the user may not know it exists)."""


class Conflict(ServiceError):
    """The thing exists but is not in a state that allows this now."""


class TooLarge(ServiceError):
    """The upload exceeds a limit."""


class RateLimited(ServiceError):
    """Too much at once; ``retry_after_s`` says when to try again."""


class Unavailable(ServiceError):
    """A part of the platform this needs is not there right now."""
