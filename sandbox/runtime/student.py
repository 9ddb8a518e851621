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
import threading
import time
from typing import Any

from . import wire


class StudentError(Exception):
    """The learner's code raised; the message and traceback are the learner's own."""

    def __init__(self, what: str, etype: str, message: str, traceback: str = "") -> None:
        super().__init__(f"{what} raised {etype}: {message}")
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


class KernelClient:
    """One connection to the kernel's namespace server; reconnects after a timeout or error."""

    def __init__(self, path: str, max_message_bytes: int) -> None:
        self.path = path
        self.max_message_bytes = max_message_bytes
        self.deadline: float | None = None  # set per test by the plugin (time.monotonic based)
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self.lost = False
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
        except AssertionError as exc:  # a reply that could not be read
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
                wire.send_frame(sock, header, blobs)
                reply, reply_blobs = wire.recv_frame(sock, self.max_message_bytes)
            except TimeoutError as exc:
                self._drop()
                raise StudentTimeout(f"{what} did not return within the time limit") from exc
            except wire.MessageTooLarge as exc:
                self._drop()
                raise AssertionError(f"{what} returned a value that is too large to check: {exc}") from None
            except wire.WireError as exc:
                self._drop()
                raise AssertionError(f"{what} returned something that could not be read: {exc}") from None
            except (ConnectionError, OSError) as exc:
                self._drop()
                self.lost = True
                raise KernelUnavailable(
                    f"your notebook's kernel stopped while running {what} (it crashed, exited or ran out of memory)"
                ) from exc
        if "error" in reply:
            err = reply["error"] if isinstance(reply["error"], dict) else {}
            cls = LEARNER_ERRORS.get(str(err.get("kind")), StudentError)
            raise cls(
                what,
                str(err.get("type", "Exception"))[:100],
                str(err.get("message", ""))[:4000],
                str(err.get("traceback", ""))[:6000],
            )
        try:
            return wire.decode(reply.get("ok"), reply_blobs, lambda tree: Remote._from_tree(self, tree, what))
        except wire.WireError as exc:
            raise AssertionError(f"{what} returned something that could not be read: {exc}") from None


class Remote:
    """A handle on an object that stays in the learner's kernel."""

    __slots__ = ("_client", "_id", "_type", "_repr", "_label")

    def __init__(self, client: KernelClient, ref_id: int, type_name: str, text: str, label: str) -> None:
        object.__setattr__(self, "_client", client)
        object.__setattr__(self, "_id", ref_id)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_repr", text)
        # How the test reached this object ("GPT2(...).forward"), for messages.
        object.__setattr__(self, "_label", label)

    @classmethod
    def _from_tree(cls, client: KernelClient, tree: dict[str, Any], label: str) -> Remote:
        ref_id = tree.get("id")
        if isinstance(ref_id, bool) or not isinstance(ref_id, int):
            raise wire.WireError("bad object reference")
        return cls(client, ref_id, str(tree.get("type", "object"))[:100], str(tree.get("repr", ""))[:200], label)

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

    def __len__(self) -> int:
        n = self._ask(f"len({self._label})", "len")
        if type(n) is not int:
            self._client.note_failure(f"len({self._label}) did not return an int")
            raise NotData("len() of your object did not return an int")
        return n

    def __next__(self) -> Any:
        return self._ask(f"next({self._label})", "next")

    def __iter__(self) -> Any:
        items = self._ask(f"iterating over {self._label}", "list")
        if type(items) is not list:
            self._client.note_failure(f"iterating over {self._label} did not give a list")
            raise NotData("iterating over your object did not give a list")
        return iter(items)

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
