"""Answers the judge's requests from inside the learner's kernel, against the notebook's namespace.

Started by one last hidden cell once the notebook has run. Everything here runs in the
untrusted process: the judge treats every reply as untrusted data.
"""

from __future__ import annotations

import copy
import itertools
import os
import socketserver
import sys
import threading
import traceback
import types
import weakref
from typing import Any

from . import wire

# The judge only ever sends small arguments; this is a guard, not a tuning knob.
MAX_REQUEST_BYTES = 1 << 30


class Namespace:
    """The notebook's globals plus the objects handed to the judge by reference.

    One reference per object: the same object always gets the same id, so the judge can keep one
    handle per object. Arrays and tensors the judge reached through an attribute or an item are
    remembered weakly, so the judge's writes into them land here while the learner still holds them.
    """

    def __init__(self, user_ns: dict[str, Any]) -> None:
        self.user_ns = user_ns
        self.refs: dict[int, Any] = {}
        self._ref_of: dict[int, int] = {}  # id(obj) -> reference id; refs keeps obj (and its id) alive
        self.arrays: dict[int, weakref.ref[Any]] = {}
        self._array_of: dict[int, int] = {}
        self.helpers: dict[str, types.ModuleType] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def make_ref(self, obj: Any) -> dict[str, Any]:
        with self._lock:
            ref_id = self._ref_of.get(id(obj))
            if ref_id is None:
                ref_id = next(self._ids)
                self.refs[ref_id] = obj
                self._ref_of[id(obj)] = ref_id
        try:
            text = repr(obj)[:200]
        except Exception:
            text = "?"
        tree = {"__t": "ref", "id": ref_id, "type": type(obj).__name__[:100], "repr": text, "mro": _mro(type(obj))}
        if isinstance(obj, type):
            tree["class_mro"] = _mro(obj)
        return tree

    def array_source(self, array: Any) -> int | None:
        with self._lock:
            ref_id = self._array_of.get(id(array))
            if ref_id is not None and self.arrays[ref_id]() is array:
                return ref_id
            key = id(array)
            try:
                ref = weakref.ref(array, lambda _: self._forget_array(key))
            except TypeError:
                return None
            ref_id = next(self._ids)
            self.arrays[ref_id] = ref
            self._array_of[id(array)] = ref_id
            return ref_id

    def _forget_array(self, key: int) -> None:
        with self._lock:
            ref_id = self._array_of.get(key)
            if ref_id is not None and self.arrays[ref_id]() is None:
                del self._array_of[key], self.arrays[ref_id]

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

    def helper(self, name: Any, source: Any) -> types.ModuleType:
        """The bundle's kernel helper module ``name``, run from ``source`` once, after the notebook."""
        if not isinstance(name, str) or not name.isidentifier() or not isinstance(source, str):
            raise wire.WireError("bad kernel helper")
        with self._lock:
            if name not in self.helpers:
                # The judge imports the same file as kernel_helpers.<name>: its dataclasses match.
                module = types.ModuleType(f"kernel_helpers.{name}")
                module.__file__ = f"kernel_helpers/{name}.py"
                sys.modules[module.__name__] = module  # dataclasses look their module up there
                exec(compile(source, module.__file__, "exec"), module.__dict__)
                self.helpers[name] = module
            return self.helpers[name]


def _mro(cls: type) -> list[str]:
    """The class's bases as ``module:qualname`` (the judge rebuilds ``isinstance`` from them)."""
    names = []
    for klass in getattr(cls, "__mro__", ())[:40]:
        module, qualname = getattr(klass, "__module__", None), getattr(klass, "__qualname__", None)
        if isinstance(module, str) and isinstance(qualname, str):
            names.append(f"{module[:200]}:{qualname[:200]}")
    return names


# The operations whose arrays and tensors are the learner's own (an attribute, an item, an element):
# the judge may write into those. A call's result is usually new, and is only a copy.
_LIVE_OPS = frozenset({"get", "getattr", "getitem", "list", "next"})


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
    if op == "codecs":
        wire.set_codecs([wire.Codec.parse(c) for c in _list(header.get("codecs"))])
        return None
    if op == "helper":
        return ns.helper(header.get("name"), header.get("source"))
    if op == "write":
        return _write(ns, header.get("array"), arg("value"))
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
    if op == "contains":
        return arg("value") in obj
    if op == "isinstance":
        return isinstance(arg("value"), obj)
    if op == "len":
        return len(obj)
    if op == "list":
        return list(obj)
    if op == "next":
        return next(obj)
    if op == "copy":
        return copy.copy(obj)
    if op == "deepcopy":
        return copy.deepcopy(obj)
    if op == "enter":
        return obj.__enter__()
    if op == "exit":
        # The judge never lets a learner's __exit__ swallow its exception: the answer is ignored.
        failed = header.get("failed") is True
        error = RuntimeError("the test failed inside this with-block") if failed else None
        obj.__exit__(type(error) if error else None, error, None)
        return None
    if op == "repr":
        return repr(obj)
    if op == "str":
        return str(obj)
    raise ValueError(f"unknown operation {op!r}")


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise wire.WireError("expected a list")
    return value


def _write(ns: Namespace, ref_id: Any, value: Any) -> bool:
    """Copy the judge's changed copy into the learner's array; False when the array is gone."""
    ref = ns.arrays.get(ref_id) if isinstance(ref_id, int) else None
    array = ref() if ref is not None else None
    if array is None:
        return False
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(array, torch.Tensor):
        if array.shape == value.shape:
            with torch.no_grad():
                array.copy_(value)
        else:  # `h.W.data = torch.zeros(...)` of another shape
            array.data = value.to(array.device)
        return True
    array[...] = value
    return True


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
                live = ns.array_source if header.get("op") in _LIVE_OPS else None
                reply = {"ok": wire.encode(value, out_blobs, ns.make_ref, array_source=live)}
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
