"""The course site's REST API over urllib, with the learner's token, and who is logged in."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

# Seconds one request may take; a heartbeat gets less (it runs in the background anyway).
TIMEOUT_S = 60.0


class CourseError(Exception):
    """Something the learner can act on: the message says what went wrong and what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the site's HTTP status, where it answered with an error


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port: what must not change for a request to keep the token."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(scheme)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    # urllib sends the Authorization header on to wherever a redirect points, and turns a
    # redirected POST into a GET without its body: neither may happen silently with a token.
    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            fp.close()
            raise CourseError(
                f"{req.full_url} redirected to {newurl}, which is not the same site (scheme, host and port): "
                "not followed, so your token was not sent there. Log in with the site's own https:// address."
            )
        if req.get_method() == "POST":
            fp.close()
            raise CourseError(
                f"{req.full_url} redirected a POST to {newurl} (HTTP {code}): not followed, since what was sent "
                "would be dropped on the way. Log in with the site's own address (as the exercise page gives it)."
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_SameOriginRedirects())


@dataclass
class Api:
    site: str
    token: str = field(repr=False)  # never in an output a notebook saves

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        timeout: float = TIMEOUT_S,
    ) -> bytes:
        headers = {"Accept": "application/json", "Authorization": f"Token {self.token}"}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.site + path, data=body, headers=headers, method=method)
        try:
            with _opener.open(req, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(self.site, exc) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise CourseError(
                f"cannot reach {self.site}: {reason}. Check the site address and your network, then try again."
            ) from None

    def json(self, method: str, path: str, payload: dict[str, Any] | None = None, *, timeout: float = TIMEOUT_S) -> Any:
        body = json.dumps(payload).encode() if payload is not None else None
        raw = self.request(method, path, body=body, content_type="application/json" if body else None, timeout=timeout)
        return self._decoded(path, raw) if raw else None

    def upload(self, path: str, field: str, filename: str, data: bytes) -> Any:
        """POST one file as multipart/form-data (what the submission endpoint takes)."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        raw = self.request("POST", path, body=body, content_type=f"multipart/form-data; boundary={boundary}")
        return self._decoded(path, raw)

    def _decoded(self, path: str, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise CourseError(
                f"{self.site} did not answer {path} as a coursegrade site does: is it the right address?"
            ) from None


def _http_error(site: str, exc: urllib.error.HTTPError) -> CourseError:
    try:
        detail = str(json.loads(exc.read()).get("detail", ""))
    except (ValueError, AttributeError, OSError):
        detail = ""
    if exc.code == 401:
        return CourseError(
            f"{site} does not accept this token ({detail or 'invalid token'}): copy the login line again from "
            "the exercise page, or log in there to see your token.",
            exc.code,
        )
    if exc.code == 429:
        wait = exc.headers.get("Retry-After") if exc.headers else None
        return CourseError(f"{detail or 'too many requests'}" + (f" (try again in {wait} s)" if wait else ""), exc.code)
    return CourseError(f"{detail or exc.reason} (HTTP {exc.code} from {site})", exc.code)


@dataclass
class Session:
    """Who is logged in, to which site, working on which exercise."""

    api: Api
    exercise: str


_current: Session | None = None


def current() -> Session:
    if _current is None:
        raise CourseError('not logged in: run coursegrade.login("<your token>") first (the exercise page shows it)')
    return _current


def set_current(session: Session) -> None:
    global _current
    _current = session
