"""The judge/kernel data format, without Docker: round trips, and what it refuses to carry."""

import io
import pickle
import socket
import threading

import numpy as np
import pytest
import torch

from sandbox.runtime import wire


def roundtrip(value, make_ref=None, resolve=None):
    blobs: list[bytes] = []
    tree = wire.encode(value, blobs, make_ref)
    return wire.decode(tree, blobs, resolve or (lambda t: pytest.fail("unexpected ref")))


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -(2**70),
        2.5,
        float("inf"),
        "héllo",
        [1, [2]],
        (1, (2, 3)),
        {"a": 1, 2: (3,)},
        {1, 2},
        frozenset({"x"}),
        1 + 2j,
        b"\x00\xff",
        slice(1, None, 2),
        Ellipsis,
    ],
)
def test_plain_values_round_trip(value):
    assert roundtrip(value) == value
    assert type(roundtrip(value)) is type(value)


def test_nan_round_trips():
    assert np.isnan(roundtrip(float("nan")))


def test_arrays_and_tensors_round_trip():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    got = roundtrip(a)
    assert got.dtype == np.float32 and np.array_equal(got, a)
    assert roundtrip(np.int16(7)) == np.int16(7) and type(roundtrip(np.int16(7))) is np.int16
    assert roundtrip(np.dtype("float64")) == np.float64
    t = torch.randn(2, 3, dtype=torch.float64).t()
    got = roundtrip(t)
    assert torch.equal(got, t) and got.dtype == torch.float64 and got.remote_device == "cpu"
    bf = roundtrip(torch.ones(2, dtype=torch.bfloat16, requires_grad=True))
    assert bf.dtype == torch.bfloat16 and bf.requires_grad
    assert roundtrip(torch.float16) is torch.float16
    assert roundtrip(torch.device("cpu")) == torch.device("cpu")


def test_non_data_needs_a_reference():
    class Thing:
        pass

    with pytest.raises(wire.WireError, match="cannot be sent"):
        wire.encode(Thing(), [], None)
    refs = {}

    def make_ref(obj):
        refs[7] = obj
        return {"__t": "ref", "id": 7}

    thing = Thing()
    assert roundtrip([thing], make_ref, lambda t: refs[t["id"]]) == [thing]


def test_object_arrays_are_refused_both_ways():
    with pytest.raises(wire.WireError, match="Python objects"):
        wire.encode(np.array([object()]), [], None)
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(wire.WireError, match="bad array data"):
        wire.decode({"__t": "ndarray", "b": 0}, [buf.getvalue()], lambda t: None)


def test_pickles_are_never_loaded():
    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled!",))

    payload = pickle.dumps(Boom())
    for tag in ("ndarray", "npscalar", "tensor"):
        with pytest.raises(wire.WireError):
            wire.decode({"__t": tag, "b": 0}, [payload], lambda t: None)


@pytest.mark.parametrize(
    "tree",
    [
        {"__t": "nope"},
        {"__t": "ndarray", "b": 5},
        {"__t": "dict", "v": [[[1], 2]]},
        {"__t": "set", "v": [[1]]},
        {"__t": "dtype", "v": "Tensor"},
        {"__t": "bigint", "v": "9" * 5000},
        {"__t": "complex", "v": ["a", 1.0]},
        {"__t": "tuple", "v": "abc"},
    ],
)
def test_malformed_trees_are_refused(tree):
    with pytest.raises(wire.WireError):
        wire.decode(tree, [], lambda t: None)


def test_deep_nesting_is_refused():
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.encode(deep, [], None)


def test_frames_round_trip_and_oversized_frames_are_refused_before_reading():
    a, b = socket.socketpair()
    with a, b:
        blob = b"x" * 100_000
        sender = threading.Thread(target=wire.send_frame, args=(a, {"op": "ping"}, [blob]))
        sender.start()
        header, blobs = wire.recv_frame(b, 1 << 20)
        sender.join()
        assert header["op"] == "ping" and blobs == [blob]

        def send_big() -> None:
            try:
                wire.send_frame(a, {"op": "big"}, [blob])
            except OSError:
                pass  # the receiver gave up on the frame and closed the socket: expected

        sender = threading.Thread(target=send_big)
        sender.start()
        with pytest.raises(wire.MessageTooLarge):
            wire.recv_frame(b, 50_000)
        a.close()
        sender.join()


# --- plain values that in-process graders take for granted ------------------------------------


def test_mappings_keep_their_kind():
    from collections import Counter, OrderedDict, defaultdict

    od = OrderedDict([("b", 1), ("a", torch.ones(2))])
    got = roundtrip(od)
    assert type(got) is OrderedDict and list(got) == ["b", "a"] and torch.equal(got["a"], torch.ones(2))
    assert type(roundtrip(Counter("aab"))) is Counter and roundtrip(Counter("aab")) == Counter("aab")
    dd = defaultdict(list, {"x": [1]})
    assert type(roundtrip(dd)) is dict and roundtrip(dd) == {"x": [1]}  # the factory is code: dropped
    sd = torch.nn.Linear(2, 3).state_dict()
    got = roundtrip(sd)
    assert type(got) is OrderedDict and list(got) == ["weight", "bias"]
    assert all(torch.equal(got[k], sd[k]) for k in sd)


def test_named_tuples_come_back_as_named_tuples():
    from collections import namedtuple

    Point = namedtuple("Point", ["x", "y"])
    got = roundtrip(Point(1, (2, 3)))
    assert got == (1, (2, 3)) and got.x == 1 and got.y == (2, 3)
    assert type(got).__name__ == "Point" and type(got)._fields == ("x", "y")
    assert type(roundtrip(Point(5, 6))) is type(got)  # one class per shape


def test_parameters_dtypes_devices_and_numpy_scalars():
    p = torch.nn.Parameter(torch.ones(3))
    got = roundtrip(p)
    assert isinstance(got, torch.nn.Parameter) and got.requires_grad and torch.equal(got, p)
    frozen = roundtrip(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert isinstance(frozen, torch.nn.Parameter) and not frozen.requires_grad
    model = torch.nn.Linear(2, 2)
    named = roundtrip(list(model.named_parameters()))
    assert [n for n, _ in named] == ["weight", "bias"] and all(isinstance(v, torch.nn.Parameter) for _, v in named)
    assert roundtrip(torch.int64) is torch.int64
    assert roundtrip(torch.device("cuda", 1)) == torch.device("cuda:1")
    for scalar in (np.float32(1.5), np.int64(3), np.bool_(True), np.float64(2.0)):
        assert type(roundtrip(scalar)) is type(scalar) and roundtrip(scalar) == scalar


@__import__("dataclasses").dataclass
class Config:
    d_model: int
    name: str = "x"


def test_dataclasses_rebuild_as_the_local_class_when_it_matches():
    got = roundtrip(Config(4, "gpt"))
    assert type(got) is Config and got == Config(4, "gpt")


def test_unknown_dataclasses_become_frozen_records():
    import dataclasses

    @dataclasses.dataclass
    class Local:  # not reachable by module + qualname
        a: int
        b: list

    got = roundtrip(Local(1, [2]))
    assert type(got) is not Local and type(got).__name__ == "Local"
    assert (got.a, got.b) == (1, [2]) and dataclasses.asdict(got) == {"a": 1, "b": [2]}
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.a = 5
    # Same module and name but other fields: a record, not the local class.
    tree = {"__t": "dataclass", "module": __name__, "qualname": "Config", "v": [["d_model", 1], ["extra", 2]]}
    other = wire.decode(tree, [], lambda t: None)
    assert type(other) is not Config and (other.d_model, other.extra) == (1, 2)


def test_nothing_is_imported_for_a_dataclass_name():
    import sys

    tree = {"__t": "dataclass", "module": "antigravity", "qualname": "X", "v": []}
    wire.decode(tree, [], lambda t: None)
    assert "antigravity" not in sys.modules


@pytest.mark.parametrize(
    "tree",
    [
        {"__t": "ntuple", "name": "P", "fields": ["x", "y"], "v": [1]},
        {"__t": "ntuple", "name": "P", "fields": ["x); import os; (y"], "v": [1]},
        {"__t": "ntuple", "name": "P(x)", "fields": ["x"], "v": [1]},
        {"__t": "ntuple", "name": "P", "fields": ["_x"], "v": [1]},
        {"__t": "ntuple", "name": "P", "fields": ["class"], "v": [1]},
        {"__t": "ntuple", "name": "P", "fields": ["x", "x"], "v": [1, 2]},
        {"__t": "dataclass", "module": "m", "qualname": "C", "v": [["a=1; import os", 1]]},
        {"__t": "dataclass", "module": "m", "qualname": "C", "v": [["__class__", 1]]},
        {"__t": "dataclass", "module": "m", "qualname": "C", "v": [["a", 1], ["a", 2]]},
        {"__t": "dataclass", "module": 3, "qualname": "C", "v": []},
        {"__t": "odict", "v": [[[1], 2]]},
    ],
)
def test_malformed_records_are_refused(tree):
    with pytest.raises(wire.WireError):
        wire.decode(tree, [], lambda t: None)


def test_shared_nodes_and_cycles_survive():
    shared = [1, 2]
    value = {"a": shared, "b": shared}
    back = roundtrip(value)
    assert back == value and back["a"] is back["b"]
    loop: list = [0]
    loop.append(loop)
    back = roundtrip(loop)
    assert back[1] is back
    # A shared structure is sent once: 40 levels of a doubly shared pair stay small.
    node: list = []
    for _ in range(40):
        node = [node, node]
    blobs: list[bytes] = []
    assert len(str(wire.encode(node, blobs, None))) < 4000


@pytest.mark.parametrize("tree", [{"__t": "same", "i": 0}, {"__t": "same", "i": True}, [{"__t": "same", "i": 5}]])
def test_bad_back_references_are_refused(tree):
    with pytest.raises(wire.WireError):
        wire.decode(tree, [], lambda t: None)


def test_codecs_carry_only_declared_types():
    from fractions import Fraction

    blobs: list[bytes] = []
    with pytest.raises(wire.WireError, match="kernel helper"):
        wire.encode(Fraction(1, 3), blobs, None)
    wire.set_codecs([wire.Codec.parse({"type": "fractions:Fraction", "fields": ["numerator", "denominator"]})])
    try:
        assert roundtrip([Fraction(1, 3)]) == [Fraction(1, 3)]
        # Only a declared name is ever imported and built, whatever a message names.
        forged = {"__t": "codec", "type": "os:system", "v": ["true"]}
        with pytest.raises(wire.WireError, match="no codec is declared"):
            wire.decode(forged, [], lambda t: None)
        with pytest.raises(wire.WireError, match="could not rebuild"):
            wire.decode({"__t": "codec", "type": "fractions:Fraction", "v": [1, 0]}, [], lambda t: None)
    finally:
        wire.set_codecs([])


@pytest.mark.parametrize(
    "table",
    [{"type": "Fraction", "fields": ["a"]}, {"type": "fractions:Fraction", "fields": []},
     {"type": "fractions:Fraction", "fields": ["a b"]}, {"type": "x:Y", "fields": ["a"], "extra": 1}, "x:Y"],
)  # fmt: skip
def test_malformed_codec_declarations_are_refused(table):
    with pytest.raises(wire.WireError):
        wire.Codec.parse(table)
