"""The data format between the judge and the learner's kernel: JSON plus arrays as npy or safetensors.

A message is one frame: an 8-byte length, a 4-byte header length, a JSON header, then binary blobs
(their sizes are listed in the header). Values are JSON trees in which tagged objects
(``{"__t": ...}``) stand for tuples, dicts (``OrderedDict`` and ``Counter`` kept), named tuples,
dataclass instances, arrays, tensors (``nn.Parameter`` kept), dtypes, devices and references to
objects that stay in the kernel. Nothing here can carry code: npy is read with ``allow_pickle=False`` and tensors are
read by safetensors, so the judge gets back only plain data built by its own libraries.

This module runs on both sides (it is imported inside the containers as ``sandbox_runtime.wire``)
and must only use the standard library at import time.
"""

from __future__ import annotations

import collections
import io
import json
import keyword
import math
import socket
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 64
_FRAME = struct.Struct(">QI")


class WireError(Exception):
    """A message that breaks the format or a limit."""


class MessageTooLarge(WireError):
    pass


# --- framing ---------------------------------------------------------------------------------


def send_frame(sock: socket.socket, header: dict[str, Any], blobs: list[bytes]) -> None:
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, allow_nan=False, separators=(",", ":")).encode()
    total = 4 + len(head) + sum(len(b) for b in blobs)
    sock.sendall(_FRAME.pack(total, len(head)))
    sock.sendall(head)
    for blob in blobs:
        sock.sendall(blob)


def recv_frame(sock: socket.socket, max_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    """Read one frame, refusing it before reading its body when it declares more than ``max_bytes``."""
    total, head_len = _FRAME.unpack(_recv_exact(sock, _FRAME.size))
    if total > max_bytes:
        raise MessageTooLarge(f"{total / 2**20:.1f} MB is more than the {max_bytes / 2**20:.0f} MB allowed")
    if head_len > total - 4 or head_len > 64 * 2**20:
        raise WireError("bad frame header")
    try:
        header = json.loads(_recv_exact(sock, head_len))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"bad message header: {exc}") from exc
    if not isinstance(header, dict):
        raise WireError("message header is not an object")
    sizes = header.get("blobs", [])
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise WireError("bad blob list")
    if sum(sizes) != total - 4 - head_len:
        raise WireError("blob sizes do not add up")
    blobs = [_recv_exact(sock, size) for size in sizes]
    return header, blobs


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], min(n - got, 1 << 20))
        if k == 0:
            raise ConnectionError("connection closed")
        got += k
    return bytes(buf)


# --- codecs for library types ------------------------------------------------------------------


@dataclass(frozen=True)
class Codec:
    """How a library type crosses as data: its ``fields`` read on one side, ``type(*fields)`` on the other.

    ``type`` is ``"module:QualName"`` (``"transformer_lens.FactoredMatrix:FactoredMatrix"``). An
    environment or a bundle declares codecs; only declared types are ever built from a message.
    """

    type: str
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, data: Any, where: str = "codec") -> Codec:
        if not isinstance(data, dict) or set(data) - {"type", "fields"}:
            raise WireError(f"{where}: a codec is a table with 'type' and 'fields'")
        name, fields = data.get("type"), data.get("fields")
        module, _, qualname = name.partition(":") if isinstance(name, str) else ("", "", "")
        if not module or not qualname or not all(p.isidentifier() for p in (*module.split("."), *qualname.split("."))):
            raise WireError(f"{where}: type must be 'module:QualName', not {name!r}")
        names_ok = isinstance(fields, list) and all(isinstance(f, str) and f.isidentifier() for f in fields)
        if not fields or not names_ok:
            raise WireError(f"{where}: fields must be a non-empty list of attribute names")
        return cls(name, tuple(fields))

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "fields": list(self.fields)}


_codecs: dict[str, Codec] = {}
_codec_classes: dict[str, type] = {}


def set_codecs(codecs: list[Codec]) -> None:
    """The codecs this process uses from now on (the judge's, and the kernel's when the judge says)."""
    _codecs.clear()
    _codecs.update((c.type, c) for c in codecs)


def codecs() -> list[Codec]:
    return list(_codecs.values())


def _codec_for(t: type) -> Codec | None:
    if not _codecs:
        return None
    for klass in getattr(t, "__mro__", (t,)):
        codec = _codecs.get(f"{getattr(klass, '__module__', '')}:{getattr(klass, '__qualname__', '')}")
        if codec is not None:
            return codec
    return None


def _codec_class(name: str) -> type:
    """The declared type, imported by its declared name (never by a name a message chose)."""
    if name not in _codec_classes:
        import importlib

        module, _, qualname = name.partition(":")
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        if not isinstance(obj, type):
            raise WireError(f"codec {name} does not name a class")
        _codec_classes[name] = obj
    return _codec_classes[name]


# --- encoding --------------------------------------------------------------------------------

NOT_DATA_HINT = (
    "only data crosses (numbers, strings, containers, arrays, tensors, dataclasses); "
    "build the objects and callbacks the learner's code should work on inside the kernel, "
    "with a kernel helper (tests/kernel_helpers/)"
)


def encode(
    value: Any,
    blobs: list[bytes],
    make_ref: Callable[[Any], dict[str, Any]] | None,
    *,
    array_source: Callable[[Any], int | None] | None = None,
) -> Any:
    """Turn ``value`` into a JSON tree, appending binary parts to ``blobs``.

    Objects that are not data become references through ``make_ref``; with no ``make_ref``
    (the judge's side) they are an error. Lists, dicts and dataclass instances met twice are sent
    once (``{"__t": "same"}``), so shared nodes and cycles of a graph survive. ``array_source``
    names where an array or tensor lives, so the other side can write into it.
    """
    return _Encoder(blobs, make_ref, array_source).encode(value, 0)


class _Encoder:
    def __init__(
        self,
        blobs: list[bytes],
        make_ref: Callable[[Any], dict[str, Any]] | None,
        array_source: Callable[[Any], int | None] | None,
    ) -> None:
        self.blobs = blobs
        self.make_ref = make_ref
        self.array_source = array_source
        self.memo: dict[int, int] = {}

    def _remember(self, value: Any) -> dict[str, Any] | None:
        """The back-reference if ``value`` was sent already; else numbers it (in visiting order)."""
        seen = self.memo.get(id(value))
        if seen is not None:
            return {"__t": "same", "i": seen}
        self.memo[id(value)] = len(self.memo)
        return None

    def encode(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value is nested too deeply")
        t = type(value)
        d = depth + 1
        if value is None or t is bool or t is str:
            return value
        if t is int:
            return value if -(2**63) <= value < 2**63 else {"__t": "bigint", "v": str(value)}
        if t is float:
            return value if math.isfinite(value) else {"__t": "float", "v": repr(value)}
        if t is list:
            return self._remember(value) or [self.encode(v, d) for v in value]
        if t is tuple:
            return {"__t": "tuple", "v": [self.encode(v, d) for v in value]}
        if t is dict or t in _MAPPINGS:
            return self._remember(value) or {
                "__t": _MAPPINGS.get(t, "dict"),
                "v": [[self.encode(k, d), self.encode(v, d)] for k, v in value.items()],
            }
        if isinstance(value, tuple) and _is_namedtuple(t):
            return {
                "__t": "ntuple",
                "name": t.__name__,
                "fields": list(t._fields),
                "v": [self.encode(v, d) for v in value],
            }
        if t in (set, frozenset):
            return {"__t": t.__name__, "v": [self.encode(v, d) for v in value]}
        if t is complex:
            return {"__t": "complex", "v": [self.encode(value.real, d), self.encode(value.imag, d)]}
        if t in (bytes, bytearray):
            self.blobs.append(bytes(value))
            return {"__t": "bytes", "b": len(self.blobs) - 1}
        if t is slice:
            return {"__t": "slice", "v": [self.encode(x, d) for x in (value.start, value.stop, value.step)]}
        if value is Ellipsis:
            return {"__t": "ellipsis"}
        special = _encode_array_like(value, self.blobs)
        if special is not None:
            if special["__t"] in ("tensor", "ndarray") and self.array_source is not None:
                source = self.array_source(value)
                if source is not None:
                    special["src"] = source
            return special
        fields = _dataclass_fields(value)
        if fields is not None:
            return self._remember(value) or {
                "__t": "dataclass",
                "module": str(getattr(t, "__module__", "")),
                "qualname": str(getattr(t, "__qualname__", t.__name__)),
                "v": [[name, self.encode(getattr(value, name), d)] for name in fields],
            }
        codec = _codec_for(t)
        if codec is not None:
            return {"__t": "codec", "type": codec.type, "v": [self.encode(getattr(value, f), d) for f in codec.fields]}
        if self.make_ref is None:
            if hasattr(t, "__wire_ref__"):  # a judge-side handle on an object that lives in the kernel
                return value.__wire_ref__
            raise WireError(f"a {t.__name__} cannot be sent to the learner's code: {NOT_DATA_HINT}")
        return self.make_ref(value)


_MAPPINGS: dict[type, str] = {
    collections.OrderedDict: "odict",
    collections.defaultdict: "dict",  # its default factory is code: it arrives as a plain dict
    collections.Counter: "counter",
}


def _is_namedtuple(t: type) -> bool:
    fields = getattr(t, "_fields", None)
    return (
        isinstance(fields, tuple)
        and all(type(f) is str for f in fields)
        and callable(getattr(t, "_make", None))
        and callable(getattr(t, "_asdict", None))
    )


def _dataclass_fields(value: Any) -> list[str] | None:
    """The field names of a dataclass instance (not of a dataclass itself), else None."""
    if isinstance(value, type):
        return None
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is None or not dataclasses.is_dataclass(value):
        return None
    return [f.name for f in dataclasses.fields(value)]


def _encode_array_like(value: Any, blobs: list[bytes]) -> dict[str, Any] | None:
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            blobs.append(_npy_bytes(np, np.asarray(value)))
            return {"__t": "ndarray", "b": len(blobs) - 1}
        if isinstance(value, np.generic):
            blobs.append(_npy_bytes(np, np.asarray(value)))
            return {"__t": "npscalar", "b": len(blobs) - 1}
        if isinstance(value, np.dtype):
            return {"__t": "npdtype", "v": value.str}
    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(value, torch.Tensor):
            from safetensors.torch import save

            parameter = isinstance(value, torch.nn.Parameter)
            device = str(value.device)
            requires_grad = bool(value.requires_grad)
            plain = value.detach().to("cpu").contiguous()
            if plain.layout != torch.strided:
                plain = plain.to_dense()
            blobs.append(save({"t": plain}))
            tree = {"__t": "tensor", "b": len(blobs) - 1, "device": device, "requires_grad": requires_grad}
            if parameter:
                tree["parameter"] = True
            return tree
        if isinstance(value, torch.dtype):
            return {"__t": "dtype", "v": str(value).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"__t": "device", "v": str(value)}
    return None


def _npy_bytes(np: Any, array: Any) -> bytes:
    if array.dtype.hasobject:
        raise WireError("arrays of Python objects cannot be sent; use a numeric dtype")
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


# --- decoding --------------------------------------------------------------------------------


def decode(
    tree: Any,
    blobs: list[bytes],
    resolve_ref: Callable[[dict[str, Any]], Any],
    *,
    adopt_array: Callable[[dict[str, Any], Any], Any] | None = None,
) -> Any:
    """Rebuild a value from a JSON tree; references go through ``resolve_ref``.

    Only builtins, numpy arrays loaded without pickle, tensors loaded by safetensors, namedtuples,
    dataclasses (a class this side already has, or a frozen record made here) and the declared
    codecs' types come out. ``adopt_array(tree, value)`` may stand in for an array that says where
    it lives (``"src"``).
    """
    return _Decoder(blobs, resolve_ref, adopt_array).decode(tree, 0)


class _Decoder:
    def __init__(
        self,
        blobs: list[bytes],
        resolve_ref: Callable[[dict[str, Any]], Any],
        adopt_array: Callable[[dict[str, Any], Any], Any] | None,
    ) -> None:
        self.blobs = blobs
        self.resolve_ref = resolve_ref
        self.adopt_array = adopt_array
        self.memo: list[Any] = []  # lists, dicts and dataclass instances, in the order the sender met them

    def decode(self, tree: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError("value is nested too deeply")
        d = depth + 1
        if tree is None or isinstance(tree, (bool, int, float, str)):
            return tree
        if isinstance(tree, list):
            out: list[Any] = []
            self.memo.append(out)
            out.extend(self.decode(v, d) for v in tree)
            return out
        if not isinstance(tree, dict):
            raise WireError("unexpected JSON value")
        tag = tree.get("__t")
        items = tree.get("v")
        if tag == "same":
            index = tree.get("i")
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.memo):
                raise WireError("bad back-reference")
            return self.memo[index]
        if tag == "tuple":
            return tuple(self.decode(v, d) for v in _list(items))
        if tag in ("dict", "odict", "counter"):
            mapping = {"dict": dict, "odict": collections.OrderedDict, "counter": collections.Counter}[tag]()
            self.memo.append(mapping)
            for pair in _list(items):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("bad dict entry")
                key = self.decode(pair[0], d)
                try:
                    mapping[key] = self.decode(pair[1], d)
                except TypeError as exc:
                    raise WireError(f"unhashable dict key: {exc}") from exc
            return mapping
        if tag in ("set", "frozenset"):
            try:
                members = [self.decode(v, d) for v in _list(items)]
                return set(members) if tag == "set" else frozenset(members)
            except TypeError as exc:
                raise WireError(f"unhashable set member: {exc}") from exc
        if tag == "ntuple":
            cls = _namedtuple_type(tree.get("name"), tree.get("fields"))
            values = [self.decode(v, d) for v in _list(items)]
            if len(values) != len(cls._fields):
                raise WireError("bad named tuple")
            return cls._make(values)
        if tag == "dataclass":
            return self._dataclass(tree, d)
        if tag == "codec":
            return self._codec(tree, d)
        if tag == "float" and items in ("nan", "inf", "-inf"):
            return float(items)
        if tag == "bigint" and isinstance(items, str) and len(items) < 4000:
            try:
                return int(items)
            except ValueError as exc:
                raise WireError("bad integer") from exc
        if tag == "complex":
            parts = _list(items)
            if len(parts) != 2:
                raise WireError("bad complex number")
            real, imag = (self.decode(p, d) for p in parts)
            if not all(isinstance(x, float) for x in (real, imag)):
                raise WireError("bad complex number")
            return complex(real, imag)
        if tag == "bytes":
            return _blob(tree, self.blobs)
        if tag == "slice":
            parts = _list(items)
            if len(parts) != 3:
                raise WireError("bad slice")
            return slice(*(self.decode(p, d) for p in parts))
        if tag == "ellipsis":
            return Ellipsis
        if tag in ("ndarray", "npscalar", "tensor"):
            if tag == "tensor":
                value = _load_tensor(tree, _blob(tree, self.blobs))
            else:
                value = _load_npy(_blob(tree, self.blobs), scalar=tag == "npscalar")
            if tag != "npscalar" and self.adopt_array is not None and "src" in tree:
                return self.adopt_array(tree, value)
            return value
        if tag == "npdtype":
            import numpy as np

            return np.dtype(_text(items))
        if tag == "dtype":
            import torch

            dtype = getattr(torch, _text(items), None)
            if not isinstance(dtype, torch.dtype):
                raise WireError("unknown torch dtype")
            return dtype
        if tag == "device":
            import torch

            try:
                return torch.device(_text(items))
            except RuntimeError as exc:
                raise WireError("bad torch device") from exc
        if tag == "ref":
            return self.resolve_ref(tree)
        raise WireError(f"unknown value tag {tag!r}")

    def _dataclass(self, tree: dict[str, Any], depth: int) -> Any:
        module, qualname = tree.get("module"), tree.get("qualname")
        if not isinstance(module, str) or not isinstance(qualname, str) or len(module) > 200 or len(qualname) > 200:
            raise WireError("bad dataclass name")
        pairs = _list(tree.get("v"))
        if len(pairs) > MAX_FIELDS or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise WireError("bad dataclass field")
        names = _field_names([p[0] for p in pairs])
        # Made before its fields are read, so a field may point back at it (a graph's cycle). Built
        # the way copy and pickle rebuild objects: no __init__, the state set directly.
        obj = None
        cls = _local_dataclass(module, qualname, names)
        if cls is not None:
            try:
                obj = object.__new__(cls)
            except TypeError:
                obj = None
        if obj is None:
            obj = object.__new__(_record_type(module, qualname, names))
        self.memo.append(obj)
        for name, pair in zip(names, pairs, strict=True):
            value = self.decode(pair[1], depth)
            try:
                object.__setattr__(obj, name, value)
            except (TypeError, AttributeError) as exc:
                raise WireError(f"bad dataclass field {name}: {exc}") from exc
        return obj

    def _codec(self, tree: dict[str, Any], depth: int) -> Any:
        name = tree.get("type")
        codec = _codecs.get(name) if isinstance(name, str) else None
        if codec is None:
            raise WireError(f"no codec is declared for {str(name)[:100]!r}")
        values = [self.decode(v, depth) for v in _list(tree.get("v"))]
        if len(values) != len(codec.fields):
            raise WireError(f"bad {codec.type} value")
        try:
            return _codec_class(codec.type)(*values)
        except WireError:
            raise
        except Exception as exc:  # the library refused the fields it was given
            raise WireError(f"could not rebuild a {codec.type}: {type(exc).__name__}: {exc}") from exc


MAX_FIELDS = 1000
_namedtuples: dict[tuple[str, tuple[str, ...]], type] = {}
_records: dict[tuple[str, str, tuple[str, ...]], type] = {}


def _identifier(value: Any) -> str:
    name = _text(value)
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
        raise WireError("bad name in a value")
    return name


def _field_names(value: Any) -> tuple[str, ...]:
    names = tuple(_identifier(f) for f in _list(value))
    if len(names) > MAX_FIELDS or len(set(names)) != len(names):
        raise WireError("bad field list")
    return names


def _namedtuple_type(name: Any, fields: Any) -> type:
    """A namedtuple class of this name and these fields (the same class for the same shape)."""
    key = (_identifier(name), _field_names(fields))
    if key not in _namedtuples:
        if any(f.startswith("_") for f in key[1]):
            raise WireError("bad named tuple field")
        # namedtuple only ever sees identifiers checked above: nothing else reaches its template.
        _namedtuples[key] = collections.namedtuple(key[0], key[1])  # type: ignore[misc]
    return _namedtuples[key]


def _local_dataclass(module: str, qualname: str, fields: tuple[str, ...]) -> type | None:
    """The receiving side's own dataclass ``module.qualname``, if already imported here and of the same fields.

    Only modules this process has already imported are looked at: a name that came over the wire
    never makes this side import anything.
    """
    dataclasses = sys.modules.get("dataclasses")
    obj = sys.modules.get(module)
    if dataclasses is None or obj is None or module == "__main__":
        return None
    for part in qualname.split("."):
        if not part.isidentifier():
            return None
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    if not isinstance(obj, type) or not dataclasses.is_dataclass(obj):
        return None
    if tuple(f.name for f in dataclasses.fields(obj)) != fields:
        return None
    return obj


def _record_type(module: str, qualname: str, fields: tuple[str, ...]) -> type:
    """A frozen dataclass standing for a dataclass this side does not have."""
    key = (module, qualname, fields)
    if key not in _records:
        import dataclasses

        name = qualname.rsplit(".", 1)[-1]
        name = name if name.isidentifier() and not keyword.iskeyword(name) else "Record"
        cls = dataclasses.make_dataclass(name, list(fields), frozen=True)
        cls.__module__ = "student"  # the learner's (or the judge's) class, read-only here
        cls.__qualname__ = name
        _records[key] = cls
    return _records[key]


def _list(items: Any) -> list[Any]:
    if not isinstance(items, list):
        raise WireError("expected a list")
    return items


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 100:
        raise WireError("expected a short string")
    return value


def _blob(tree: dict[str, Any], blobs: list[bytes]) -> bytes:
    index = tree.get("b")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(blobs):
        raise WireError("bad blob index")
    return blobs[index]


def _load_npy(data: bytes, *, scalar: bool) -> Any:
    import numpy as np

    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise WireError(f"bad array data: {exc}") from exc
    if not isinstance(array, np.ndarray):
        raise WireError("bad array data")
    if scalar:
        if array.ndim != 0:
            raise WireError("bad scalar")
        return array[()]
    return array


def _load_tensor(tree: dict[str, Any], data: bytes) -> Any:
    from safetensors.torch import load

    try:
        tensors = load(data)
    except Exception as exc:  # safetensors raises its own error types for any malformed input
        raise WireError(f"bad tensor data: {exc}") from exc
    tensor = tensors.get("t")
    if tensor is None or len(tensors) != 1:
        raise WireError("bad tensor data")
    grad = tree.get("requires_grad") is True and (tensor.is_floating_point() or tensor.is_complex())
    if tree.get("parameter") is True:
        import torch

        tensor = torch.nn.Parameter(tensor, requires_grad=grad)
    elif grad:
        tensor.requires_grad_(True)
    device = tree.get("device")
    if isinstance(device, str) and len(device) < 40:
        # The judge has no GPU: the tensor is rebuilt on the CPU and remembers where it came from.
        tensor.remote_device = device
    return tensor
