"""The ``student`` fixture's object: a proxy for names in the learner's notebook.

``student.normalize_rows(x)`` sends the call to the kernel container and returns what came back,
decoded into the judge's own Python, numpy and torch objects. Objects that are not data (an
``nn.Module``, a generator) stay in the kernel and come back as :class:`Remote` handles, on which
attribute access, calls, indexing, ``len`` and iteration are forwarded. A handle never pretends to
be data: comparing, truth-testing or converting it to a number or array is refused, so an object
with a lying ``__eq__`` or ``__float__`` cannot pass a check.

The learner's exceptions arrive as :class:`StudentError`, and as a subclass of the builtin kind
when they are one of :data:`LEARNER_ERRORS` (so ``hasattr`` and iteration behave). What the
platform fails to do during a test (a value that cannot cross, a lost kernel, a timeout) is noted
in ``KernelClient.platform_failure``, so the judge never counts that test as passed.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import wire

HELPERS_DIR = "kernel_helpers"  # under a bundle's tests/


class StudentError(Exception):
    """The learner's code raised; the message and traceback are the learner's own."""

    def __init__(self, what: str, etype: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{what} raised {etype}: {message}")
        self.what = what
        self.etype = etype
        self.learner_traceback = traceback


class StudentAttributeError(StudentError, AttributeError):
    pass


class StudentTypeError(StudentError, TypeError):
    pass


class StudentKeyError(StudentError, KeyError):
    def __str__(self) -> str:  # KeyError's own __str__ would quote the whole message
        return Exception.__str__(self)


class StudentIndexError(StudentError, IndexError):
    pass


class StudentStopIteration(StudentError, StopIteration):
    pass


class StudentValueError(StudentError, ValueError):
    pass


# The kernel names which of these builtin kinds the learner's exception is (by its class's bases);
# the judge raises the matching subclass, so hasattr(), iteration and pytest.raises(KeyError) work.
LEARNER_ERRORS: dict[str, type[StudentError]] = {
    "KeyError": StudentKeyError,
    "IndexError": StudentIndexError,
    "AttributeError": StudentAttributeError,
    "StopIteration": StudentStopIteration,
    "TypeError": StudentTypeError,
    "ValueError": StudentValueError,
}


class NotDefined(AssertionError, AttributeError):
    """The notebook does not define a name: a failed check, and False for ``hasattr(student, name)``."""


class StudentTimeout(Exception):
    """A call into the learner's code did not return in time."""


class KernelUnavailable(Exception):
    """The learner's kernel is not there to answer (it never finished, died or was killed)."""


class NotData(TypeError):
    pass


class ReplyRefused(AssertionError):
    """The learner's value could not be taken: too large, or not readable as data (a failed check)."""


class KernelClient:
    """One connection to the kernel's namespace server; reconnects after a timeout or error."""

    def __init__(self, path: str, max_message_bytes: int) -> None:
        self.path = path
        self.max_message_bytes = max_message_bytes
        self.deadline: float | None = None  # set per test by the plugin (time.monotonic based)
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.lost = False
        # One handle per kernel object, for as long as the test holds it.
        self.handles: weakref.WeakValueDictionary[int, Remote] = weakref.WeakValueDictionary()
        # The learner's arrays and tensors the test holds copies of, by the kernel's id for them.
        self._mirrors: dict[int, _Mirror] = {}
        self._codecs_sent = False
        # The first thing the platform failed to do during the current test (the plugin resets it):
        # a test that caught that exception and went on has not been graded, whatever it asserted.
        self.platform_failure: str | None = None

    def note_failure(self, message: str) -> None:
        if self.platform_failure is None:
            self.platform_failure = message[:1000]

    def _connect(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.path)
            except OSError as exc:
                sock.close()
                self.lost = True
                raise KernelUnavailable(
                    "your notebook's kernel is no longer running (it crashed or was stopped)"
                ) from exc
            self._sock = sock
        return self._sock

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def request(self, what: str, header: dict[str, Any], args: dict[str, Any] | None = None) -> Any:
        try:
            return self._request(what, header, args)
        except (wire.WireError, NotData, StudentTimeout, KernelUnavailable) as exc:
            self.note_failure(f"{what}: {exc}")
            raise
        except ReplyRefused as exc:
            self.note_failure(str(exc))
            raise

    def _request(self, what: str, header: dict[str, Any], args: dict[str, Any] | None = None) -> Any:
        blobs: list[bytes] = []
        for key, value in (args or {}).items():
            header[key] = wire.encode(value, blobs, None)
        with self._lock:
            sock = self._connect()
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise StudentTimeout(f"{what} did not return in time")
            sock.settimeout(remaining)
            try:
                self._before(sock)
                reply, reply_blobs = self._exchange(sock, header, blobs)
            except TimeoutError as exc:
                self._drop()
                raise StudentTimeout(f"{what} did not return within the time limit") from exc
            except wire.MessageTooLarge as exc:
                self._drop()
                raise ReplyRefused(f"{what} returned a value that is too large to check: {exc}") from None
            except wire.WireError as exc:
                self._drop()
                raise ReplyRefused(f"{what} returned something that could not be read: {exc}") from None
            except (ConnectionError, OSError) as exc:
                self._drop()
                self.lost = True
                raise KernelUnavailable(
                    f"your notebook's kernel stopped while running {what} (it crashed, exited or ran out of memory)"
                ) from exc
            except BaseException:
                # Interrupted mid-exchange (the test's alarm): the rest of that reply must never be
                # read as the next request's answer.
                self._drop()
                raise
        _raise_learner_error(what, reply)
        try:
            return wire.decode(
                reply.get("ok"), reply_blobs, lambda tree: Remote._from_tree(self, tree, what), adopt_array=self._adopt
            )
        except wire.WireError as exc:
            raise ReplyRefused(f"{what} returned something that could not be read: {exc}") from None

    def _exchange(
        self, sock: socket.socket, header: dict[str, Any], blobs: list[bytes]
    ) -> tuple[dict[str, Any], list[bytes]]:
        wire.send_frame(sock, header, blobs)
        return wire.recv_frame(sock, self.max_message_bytes)

    def _before(self, sock: socket.socket) -> None:
        """Tell the kernel the codecs (once), then write the test's changes into the learner's arrays."""
        if not self._codecs_sent:
            codecs = [c.as_dict() for c in wire.codecs()]
            if codecs:
                reply, _ = self._exchange(sock, {"op": "codecs", "codecs": codecs}, [])
                _raise_learner_error("declaring codecs", reply)
            self._codecs_sent = True
        for source, mirror in list(self._mirrors.items()):
            held, mirror.pending = mirror.ref(), None
            if held is None:
                del self._mirrors[source]
                continue
            if _unchanged(held, mirror.snapshot):
                continue
            blobs: list[bytes] = []
            tree = wire.encode(held, blobs, None)
            reply, _ = self._exchange(sock, {"op": "write", "array": source, "value": tree}, blobs)
            _raise_learner_error("writing into your array", reply)
            if reply.get("ok") is True:
                mirror.snapshot = _snapshot(held)
            else:  # the learner no longer holds it: like writing into a copy nobody else sees
                del self._mirrors[source]

    def _adopt(self, tree: dict[str, Any], value: Any) -> Any:
        """The test's one object for this learner array: refreshed in place when the test holds it."""
        source = tree.get("src")
        if isinstance(source, bool) or not isinstance(source, int):
            return value
        mirror = self._mirrors.get(source)
        held = mirror.ref() if mirror is not None else None
        if mirror is not None and held is not None and _same_kind(held, value):
            _copy_into(held, value)
            mirror.snapshot, mirror.pending = _snapshot(held), held
            return held
        size = _nbytes(value)
        in_use = sum(m.nbytes for m in self._mirrors.values() if m.ref() is not None)
        if size > MIRROR_MAX_BYTES or in_use + size > MIRROR_BUDGET_BYTES:
            return value  # too big to keep a second copy of: a plain copy, writes stay here
        try:
            self._mirrors[source] = _Mirror(weakref.ref(value), _snapshot(value), size, pending=value)
        except TypeError:
            return value
        return value


# Arrays the test reads through a handle are kept twice (to see what the test changed): bounded.
MIRROR_MAX_BYTES = 64 << 20
MIRROR_BUDGET_BYTES = 256 << 20


@dataclass
class _Mirror:
    ref: weakref.ref[Any]
    snapshot: Any
    nbytes: int
    # Held until the next request has written any change back: `h.W.data[:] = 0` drops the judge's
    # tensor at once, and the write must still reach the learner's.
    pending: Any = None


def _raise_learner_error(what: str, reply: dict[str, Any]) -> None:
    if "error" in reply:
        err = reply["error"] if isinstance(reply["error"], dict) else {}
        cls = LEARNER_ERRORS.get(str(err.get("kind")), StudentError)
        raise cls(
            what,
            str(err.get("type", "Exception"))[:100],
            str(err.get("message", ""))[:4000],
            str(err.get("traceback", ""))[:6000],
        )


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _nbytes(value: Any) -> int:
    return int(value.element_size() * value.nelement()) if _is_tensor(value) else int(value.nbytes)


def _snapshot(value: Any) -> Any:
    return value.detach().clone() if _is_tensor(value) else value.copy()


def _same_kind(held: Any, value: Any) -> bool:
    if type(held) is not type(value) or held.shape != value.shape or held.dtype != value.dtype:
        return False
    if _is_tensor(held):
        return held.requires_grad == value.requires_grad
    return bool(held.flags.writeable)


def _copy_into(held: Any, value: Any) -> None:
    if _is_tensor(held):
        import torch

        with torch.no_grad():
            held.copy_(value)
        if hasattr(value, "remote_device"):
            held.remote_device = value.remote_device
    else:
        held[...] = value


def _unchanged(held: Any, snapshot: Any) -> bool:
    if type(held) is not type(snapshot) and not _is_tensor(held):
        return False
    if held.shape != snapshot.shape or held.dtype != snapshot.dtype:
        return False
    if not _is_tensor(held):
        return held.tobytes() == snapshot.tobytes()
    import torch

    now = held.detach()
    if torch.equal(now, snapshot):
        return True
    # NaN is never equal to itself: compare where the NaNs are, then the rest.
    return bool(
        (now.is_floating_point() or now.is_complex())
        and torch.equal(now.isnan(), snapshot.isnan())
        and torch.equal(now.nan_to_num(), snapshot.nan_to_num())
    )


class Remote:
    """A handle on an object that stays in the learner's kernel (one handle per object)."""

    __slots__ = ("_client", "_id", "_type", "_repr", "_label", "_mro", "_class_mro", "__weakref__")

    def __init__(
        self,
        client: KernelClient,
        ref_id: int,
        type_name: str,
        text: str,
        label: str,
        mro: tuple[str, ...] = (),
        class_mro: tuple[str, ...] | None = None,
    ) -> None:
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_id", ref_id)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_repr", text)
        # How the test first reached this object ("GPT2(...).forward"), for messages.
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_mro", mro)
        object.__setattr__(self, "_class_mro", class_mro)

    @classmethod
    def _from_tree(cls, client: KernelClient, tree: dict[str, Any], label: str) -> Remote:
        ref_id = tree.get("id")
        if isinstance(ref_id, bool) or not isinstance(ref_id, int):
            raise wire.WireError("bad object reference")
        known = client.handles.get(ref_id)
        if known is not None:
            return known
        class_mro = tree.get("class_mro")
        handle = cls(
            client,
            ref_id,
            str(tree.get("type", "object"))[:100],
            str(tree.get("repr", ""))[:200],
            label,
            _names(tree.get("mro")),
            _names(class_mro) if class_mro is not None else None,
        )
        client.handles[ref_id] = handle
        return handle

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        """For ``isinstance``: a class deriving from the judge's own classes that the object's class derives from.

        Which classes those are is the kernel's word; it decides checks the learner could pass
        honestly anyway (subclassing ``nn.Linear``), never a comparison of values.
        """
        return _judge_class(self._type, self._mro) or Remote

    @property
    def __bases__(self) -> tuple[type, ...]:
        """Present on handles of classes only, so ``issubclass(student.MyLinear, nn.Module)`` works."""
        if self._class_mro is None:
            raise AttributeError("__bases__")
        judge_class = _judge_class(self._type, self._class_mro)
        return (judge_class,) if judge_class is not None else ()

    @property
    def __wire_ref__(self) -> dict[str, Any]:
        return {"__t": "ref", "id": self._id}

    def _ask(self, what: str, op: str, **fields: Any) -> Any:
        args = {k: v for k, v in fields.items() if k in ("args", "kwargs", "key", "value")}
        header = {k: v for k, v in fields.items() if k not in args}
        return self._client.request(what, {"op": op, "target": {"__t": "ref", "id": self._id}, **header}, args)

    @property
    def remote_type(self) -> str:
        """The class name of the object in the learner's kernel."""
        return self._type

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ask(f"{self._label}.{name}", "getattr", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask(f"setting {self._label}.{name}", "setattr", name=name, value=value)

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:  # a keyword named self is the callee's
        return self._ask(f"{self._label}(...)", "call", args=list(args), kwargs=dict(kwargs))

    def __getitem__(self, key: Any) -> Any:
        return self._ask(f"{self._label}[...]", "getitem", key=key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ask(f"{self._label}[...] = ...", "setitem", key=key, value=value)

    def _ask_for(self, kind: type, what: str, op: str, **fields: Any) -> Any:
        """An answer that must be exactly ``kind`` (an int, a bool, a list), never an object posing as one."""
        answer = self._ask(what, op, **fields)
        if type(answer) is not kind:
            self._client.note_failure(f"{what} did not give a {kind.__name__}")
            raise NotData(f"{what} on your object did not give a {kind.__name__}")
        return answer

    def __len__(self) -> int:
        return self._ask_for(int, f"len({self._label})", "len")

    def __next__(self) -> Any:
        return self._ask(f"next({self._label})", "next")

    def __iter__(self) -> Any:
        return iter(self._ask_for(list, f"iterating over {self._label}", "list"))

    def __contains__(self, item: Any) -> bool:
        return self._ask_for(bool, f"`... in {self._label}`", "contains", value=item)

    def __instancecheck__(self, instance: Any) -> bool:
        """``isinstance(x, student.MLP)``: asked in the kernel (where x is the learner's object or a copy)."""
        return self._ask_for(bool, f"isinstance(..., {self._label})", "isinstance", value=instance)

    def __enter__(self) -> Any:
        return self._ask(f"with {self._label}", "enter")

    def __exit__(self, etype: Any, exc: Any, tb: Any) -> bool:
        self._ask(f"leaving with {self._label}", "exit", failed=etype is not None)
        return False  # the learner's __exit__ never swallows the test's exception

    def __copy__(self) -> Any:
        return self._ask(f"copy.copy({self._label})", "copy")

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self._ask(f"copy.deepcopy({self._label})", "deepcopy")

    def __repr__(self) -> str:
        return f"<student {self._type} {self._label}: {self._repr}>"

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        self._client.note_failure(f"{self._label} is a {self._type} object, not plain data, and was used as data")
        raise NotData(
            f"{self._label} is a {self._type} object from your notebook and is not plain data; "
            "return numbers, lists, numpy arrays or tensors"
        )

    __bool__ = __float__ = __int__ = __index__ = __complex__ = __array__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __hash__(self) -> int:
        return hash((id(self._client), self._id))


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v)[:400] for v in value[:40])


_judge_classes: dict[tuple[str, ...], type | None] = {}


def _judge_class(name: str, mro: tuple[str, ...]) -> type | None:
    """A class (never instantiated) whose bases are the judge's classes among ``mro``, or None.

    Only modules the judge has already imported are looked in, and never builtins or array types:
    a name from the kernel makes the judge import nothing, and a handle never passes for a number,
    a container, an array or a tensor (real ones always cross as data).
    """
    key = (name, *mro)
    if key in _judge_classes:
        return _judge_classes[key]
    found: list[type] = []
    for entry in mro:
        module, _, qualname = entry.partition(":")
        obj: Any = sys.modules.get(module) if module not in ("builtins", "__main__") else None
        for part in qualname.split(".") if obj is not None else ():
            obj = getattr(obj, part, None) if part.isidentifier() else None
        if isinstance(obj, type) and obj not in found and not _is_data_class(obj):
            found.append(obj)
    bases = [c for i, c in enumerate(found) if not any(issubclass(prev, c) for prev in found[:i])]
    made: type | None = None
    for attempt in (bases, bases[:1]):
        if not attempt:
            break
        try:
            made = type(name if name.isidentifier() else "StudentObject", tuple(attempt), {"__module__": "student"})
            break
        except TypeError:  # bases that cannot be combined (layouts, metaclasses, final classes)
            continue
    _judge_classes[key] = made
    return made


class KernelHelpers:
    """``kernel_helpers.training`` is a handle on ``tests/kernel_helpers/training.py``, run in the kernel.

    The module is sent to the kernel and run there (once, on first use, after the notebook), so
    its functions work on the learner's objects in place: drive the learner's optimizer, build an
    object graph for the learner's function. They run beside the learner's code, which can read
    and change them: helpers hold no reference solution or expected value, and return data that
    the test compares, here, with what it computed itself.
    """

    def __init__(self, client: KernelClient, folder: Path) -> None:
        self._client = client
        self._folder = folder
        self._modules: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._modules:
            path = self._folder / f"{name}.py"
            if not path.is_file():
                raise AttributeError(f"the bundle has no tests/{HELPERS_DIR}/{name}.py")
            source = path.read_text(encoding="utf-8")
            self._modules[name] = self._client.request(
                f"{HELPERS_DIR}.{name}", {"op": "helper", "name": name, "source": source}
            )
        return self._modules[name]


def _is_data_class(cls: type) -> bool:
    data: list[type] = []
    if (np := sys.modules.get("numpy")) is not None:
        data += [np.ndarray, np.generic]
    if (torch := sys.modules.get("torch")) is not None:
        data.append(torch.Tensor)
    return bool(data) and issubclass(cls, tuple(data))


class Student:
    """``student.name`` is the value of ``name`` in the learner's notebook (data, or a Remote)."""

    def __init__(self, client: KernelClient) -> None:
        object.__setattr__(self, "_client", client)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        client: KernelClient = object.__getattribute__(self, "_client")
        try:
            return client.request(name, {"op": "get", "name": name})
        except StudentError as exc:
            if exc.etype == "NameError":
                raise NotDefined(f"your notebook does not define {name!r}") from None
            raise

    def __contains__(self, name: str) -> bool:
        return bool(object.__getattribute__(self, "_client").request(name, {"op": "has", "name": name}))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("tests may not change the learner's namespace")
