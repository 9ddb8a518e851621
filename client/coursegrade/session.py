"""``coursegrade.login``: check the token against the site, remember it, start the heartbeats."""

from __future__ import annotations

import os
import urllib.parse

from coursegrade import heartbeat, notebook
from coursegrade.api import Api, CourseError, Session, set_current

TOKEN_ENV = "COURSEGRADE_TOKEN"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")  # where plain http never leaves this computer


def login(token: str | None = None, site: str | None = None, exercise: str | None = None) -> None:
    """Log in to the course site for this notebook's exercise.

    ``token``: your API token (the exercise page shows it), else the ``COURSEGRADE_TOKEN``
    environment variable. ``site`` and ``exercise`` come from the notebook's metadata, which the
    platform writes into the template you downloaded; pass them when the notebook cannot be read.
    Afterwards every cell you run counts as time on the exercise (one heartbeat a minute at most).
    Returns nothing, so that the token never ends up in the cell's saved output.
    """
    token = (token or os.environ.get(TOKEN_ENV) or "").strip()
    if not token:
        raise CourseError(
            f'no token: pass it, coursegrade.login("<your token>"), or set {TOKEN_ENV}; '
            "the exercise page shows yours under 'Work in Colab or Jupyter'"
        )
    if not site or not exercise:
        meta, why = _notebook_metadata()
        site, exercise = site or meta.get("site"), exercise or meta.get("exercise")
        if not site or not exercise:
            missing = " and ".join(n for n, v in (("site", site), ("exercise", exercise)) if not v)
            raise CourseError(
                f"which {missing}? {why}: pass it, e.g. "
                'coursegrade.login(token, site="https://course.example.org", exercise="normalize-rows")'
            )
    site = _site_url(site)
    api = Api(site, token)
    api.json("GET", "/api/v1/modules")  # proves the site and the token (a clear error otherwise)
    title = api.json("GET", f"/api/v1/exercises/{urllib.parse.quote(exercise)}")["title"]
    session = Session(api, exercise)
    set_current(session)
    shell = notebook.ipython()
    if shell is not None:
        heartbeat.install(shell, lambda: _heartbeat(session))
    print(f"Logged in to {site}, working on {title!r} ({exercise}).")


def _heartbeat(session: Session) -> None:
    session.api.json(
        "POST",
        "/api/v1/activity",
        {"exercise": session.exercise, "source": "notebook"},
        timeout=heartbeat.SEND_TIMEOUT_S,
    )


def _notebook_metadata() -> tuple[dict[str, str], str]:
    try:
        found = notebook.find()
    except notebook.NotebookNotFound as exc:
        return {}, f"this notebook cannot be read ({'; '.join(exc.reasons)})"
    meta = notebook.course_metadata(found.notebook)
    return meta, f"the notebook ({found.where}) does not say (its 'coursegrade' metadata is missing)"


def _site_url(site: str) -> str:
    parsed = urllib.parse.urlsplit(site.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CourseError(f"{site!r} is not a site address: give it as https://host")
    # The token goes with every request: over plain http anyone on the way could read it.
    if parsed.scheme == "http" and parsed.hostname not in LOCAL_HOSTS:
        raise CourseError(
            f"{site!r} uses plain http, which would send your token unencrypted: give the site as "
            f"https://{parsed.netloc} (http is only for a site on this computer, such as http://localhost:8000)"
        )
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"
