"""Answers the judge's requests from inside the learner's kernel, against the notebook's namespace.

Started by one last hidden cell once the notebook has run. Everything here runs in the
untrusted process: the judge treats every reply as untrusted data.
"""

from __future__ import annotations

import itertools
import os
import socketserver
import sys
import threading
import traceback
from typing import Any

from . import wire

# The judge only ever sends small arguments; this is a guard, not a tuning knob.
MAX_REQUEST_BYTES = 1 << 30


class Namespace:
    """The notebook's globals plus the objects handed to the judge by reference."""

    def __init__(self, user_ns: dict[str, Any]) -> None:
        self.user_ns = user_ns
        self.refs: dict[int, Any] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def make_ref(self, obj: Any) -> dict[str, Any]:
        with self._lock:
            ref_id = next(self._ids)
            self.refs[ref_id] = obj
        try:
            text = repr(obj)[:200]
        except Exception:
            text = "?"
        return {"__t": "ref", "id": ref_id, "type": type(obj).__name__[:100], "repr": text}

    def resolve(self, tree: dict[str, Any]) -> Any:
        try:
            return self.refs[tree["id"]]
        except (KeyError, TypeError):
            raise wire.WireError("unknown object reference") from None

    def target(self, spec: Any) -> Any:
        if isinstance(spec, dict) and "name" in spec:
            name = spec["name"]
            if name not in self.user_ns:
                raise NameError(f"name {name!r} is not defined in your notebook")
            return self.user_ns[name]
        return self.resolve(spec)


def _dispatch(ns: Namespace, header: dict[str, Any], blobs: list[bytes]) -> Any:
    op = header.get("op")

    def arg(key: str) -> Any:
        return wire.decode(header.get(key), blobs, ns.resolve)

    if op == "ping":
        return "pong"
    if op == "has":
        return header.get("name") in ns.user_ns
    if op == "get":
        return ns.target({"name": header.get("name")})
    obj = ns.target(header.get("target"))
    if op == "call":
        args = arg("args") or []
        kwargs = arg("kwargs") or {}
        return obj(*args, **kwargs)
    if op == "getattr":
        return getattr(obj, str(header.get("name")))
    if op == "setattr":
        setattr(obj, str(header.get("name")), arg("value"))
        return None
    if op == "getitem":
        return obj[arg("key")]
    if op == "setitem":
        obj[arg("key")] = arg("value")
        return None
    if op == "len":
        return len(obj)
    if op == "list":
        return list(obj)
    if op == "next":
        return next(obj)
    if op == "repr":
        return repr(obj)
    if op == "str":
        return str(obj)
    raise ValueError(f"unknown operation {op!r}")


# Builtin exception kinds the judge re-raises as such (most specific first).
_KINDS = (KeyError, IndexError, AttributeError, StopIteration, TypeError, ValueError)


def _error_reply(exc: BaseException) -> dict[str, Any]:
    # The traceback shows the learner's own frames; the judge's request code is not in it.
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if not f.filename.endswith(("kernel_server.py", "wire.py"))]
    text = "".join(traceback.format_list(own[-8:]))
    try:
        message = str(exc)[:4000]
    except Exception:
        message = "?"
    error = {"type": type(exc).__name__, "message": message, "traceback": text[-6000:]}
    mro = type(exc).__mro__
    for kind in _KINDS:
        if kind in mro:
            error["kind"] = kind.__name__
            break
    return {"error": error}


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        ns: Namespace = self.server.namespace  # type: ignore[attr-defined]
        while True:
            try:
                header, blobs = wire.recv_frame(self.request, MAX_REQUEST_BYTES)
            except (ConnectionError, OSError, wire.WireError):
                return
            out_blobs: list[bytes] = []
            try:
                value = _dispatch(ns, header, blobs)
                reply = {"ok": wire.encode(value, out_blobs, ns.make_ref)}
            except BaseException as exc:  # the learner's code may raise anything, SystemExit included
                out_blobs = []
                reply = _error_reply(exc)
            try:
                wire.send_frame(self.request, reply, out_blobs)
            except (OSError, ValueError):
                return


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(user_ns: dict[str, Any], path: str) -> None:
    """Listen on ``path`` in a background thread; returns at once so the kernel goes idle."""
    if "torch" in sys.modules:
        import safetensors.torch  # noqa: F401  (before the first call, not during it)
    if os.path.exists(path):
        os.unlink(path)
    server = _Server(path, _Handler)
    server.namespace = Namespace(user_ns)  # type: ignore[attr-defined]
    os.chmod(path, 0o666)  # the judge runs as another user
    threading.Thread(target=server.serve_forever, name="grader-server", daemon=True).start()
