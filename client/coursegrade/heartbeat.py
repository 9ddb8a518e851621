"""Time on task from actual code runs: a heartbeat after a cell runs, at most once a minute.

The platform credits the gap between a learner's heartbeats (below its idle cutoff) to the
exercise, so one a minute while cells run is enough. Sending happens on a background thread: a
slow or absent network never holds up the learner's cell. A failure is said in the output of the
next cell (a background thread's print would land in whichever cell happens to be running), once
until a heartbeat gets through again. When the site refuses the token (401 or 403), no heartbeat is
sent until the next ``login()``: every one would be refused the same way.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from coursegrade.api import CourseError

INTERVAL_S = 60.0  # at most one heartbeat per this many seconds
SEND_TIMEOUT_S = 10.0
REFUSED = (401, 403)  # HTTP statuses after which heartbeats stop until the next login
EVENT = "post_run_cell"
_MARK = "_coursegrade_heartbeat"  # found on our callback even after the module was reloaded


class Heartbeats:
    """The ``post_run_cell`` callback: sends ``send()`` in the background, rate-limited."""

    _coursegrade_heartbeat = True

    def __init__(self, send: Callable[[], Any]) -> None:
        self.send = send
        self.sent = 0  # heartbeats the site accepted
        self._last: float | None = None
        self._thread: threading.Thread | None = None
        self._failed = False
        self.stopped = False  # the site refused the token
        self._warning: str | None = None

    def __call__(self, result: Any = None) -> None:
        if self._warning is not None:
            print(f"coursegrade: {self._warning}", file=sys.stderr)
            self._warning = None
        now = time.monotonic()
        if self.stopped or (self._thread is not None and self._thread.is_alive()):
            return
        if self._last is not None and now - self._last < INTERVAL_S:
            return
        self._last = now
        self._thread = threading.Thread(target=self._beat, name="coursegrade-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        try:
            self.send()
        except Exception as exc:
            if isinstance(exc, CourseError) and exc.status in REFUSED:
                self.stopped = True
                self._warning = (
                    f"the site refused the heartbeats sent with your token ({exc}); time on task is no longer "
                    'recorded. Log in again to resume: coursegrade.login("<your token>"), as the exercise page '
                    "shows it."
                )
            elif not self._failed:
                self._failed = True
                self._warning = (
                    f"could not record time on task ({exc}); your work is not affected. "
                    "Further failures are not reported until a heartbeat gets through again."
                )
        else:
            self.sent += 1
            self._failed = False

    def flush(self, timeout: float = SEND_TIMEOUT_S) -> None:
        """Wait for a heartbeat in flight (tests, and a clean exit)."""
        if self._thread is not None:
            self._thread.join(timeout)


def install(shell: Any, send: Callable[[], Any]) -> Heartbeats:
    """Register (once) the callback on ``shell``; a second login only changes what it sends."""
    ours = [cb for cb in list(shell.events.callbacks.get(EVENT, [])) if getattr(cb, _MARK, False)]
    keep = next((cb for cb in ours if isinstance(cb, Heartbeats)), None)
    for cb in ours:
        if cb is not keep:  # left by an older copy of this module (reinstalled, reloaded)
            shell.events.unregister(EVENT, cb)
    if keep is None:
        keep = Heartbeats(send)
        shell.events.register(EVENT, keep)
    keep.send = send
    keep.stopped = False  # a new login, perhaps with a new token
    return keep


def installed(shell: Any) -> Heartbeats | None:
    return next((cb for cb in shell.events.callbacks.get(EVENT, []) if isinstance(cb, Heartbeats)), None)
