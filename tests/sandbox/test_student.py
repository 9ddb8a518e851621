"""The judge's ``student`` proxy against a real kernel server in this process (no Docker).

What tests written for an in-process grader rely on: learner exceptions of the usual builtin kinds,
hasattr and iteration through handles, ``self`` as a keyword, platform failures being noted, one
handle per object, class checks, writes into the learner's tensors, copies made in the kernel,
graphs with shared nodes, codecs, and kernel helpers.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pytest
import torch

from sandbox.runtime import kernel_server, wire
from sandbox.runtime.student import (
    KernelClient,
    KernelHelpers,
    NotData,
    Student,
    StudentAttributeError,
    StudentError,
    StudentKeyError,
    StudentStopIteration,
    StudentValueError,
)

NOTEBOOK = """
import torch

class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 3)
    def forward(self, x):
        return self.lin(x)

class Bag:
    def __init__(self):
        self.items = {"a": 1}
    def __getitem__(self, k):
        return self.items[k]
    def __iter__(self):
        return iter(self.items)

class MyKey(KeyError):
    pass

def lookup(k):
    raise MyKey(k)

def check(x):
    if x < 0:
        raise ValueError("negative")
    return x

def method(self, y):
    return (self, y)

def gen():
    yield 1

class Weird(Exception):
    pass

def weird():
    raise Weird("no")

def identity(x):
    return x

import numpy as np
from fractions import Fraction

class Holder:
    def __init__(self):
        self.w = np.arange(4.0)
        self.t = torch.ones(3)
    def total(self):
        return float(self.w.sum() + self.t.sum())

class Liar(torch.Tensor.__mro__[-1]):
    __module__ = "torch"
    __qualname__ = "Tensor"

class Scope:
    def __init__(self):
        self.log = []
    def __enter__(self):
        self.log.append("enter")
        return self
    def __exit__(self, *exc):
        self.log.append("exit" if exc[0] is None else "exit-with-error")
        return True  # tries to swallow the test's exception

def halve(f):
    return f / 2

def visit_order(root):
    # depth-first order of a graph of nodes with .name and .children (shared nodes once)
    seen, order = set(), []
    def visit(node):
        if id(node) in seen:
            return
        seen.add(id(node))
        order.append(node.name)
        for child in node.children:
            visit(child)
    visit(root)
    return order, root.children[0] is root.children[1].children[0]
"""


@pytest.fixture
def student(tmp_path):
    ns: dict = {}
    exec(compile(NOTEBOOK, "<notebook>", "exec"), ns)
    path = str(tmp_path / "kernel.sock")
    kernel_server.serve(ns, path)
    return Student(KernelClient(path, 1 << 26))


@pytest.fixture
def codecs():
    wire.set_codecs([wire.Codec("fractions:Fraction", ("numerator", "denominator"))])
    yield
    wire.set_codecs([])


def client(student) -> KernelClient:
    return object.__getattribute__(student, "_client")


def test_learner_exceptions_keep_their_builtin_kind(student):
    with pytest.raises(KeyError) as info:
        student.lookup("k")
    assert isinstance(info.value, StudentKeyError) and info.value.etype == "MyKey"
    assert "lookup(...) raised MyKey" in str(info.value)
    with pytest.raises(ValueError, match="negative"):
        student.check(-1)
    assert isinstance(pytest.raises(ValueError, student.check, -1).value, StudentValueError)
    err = pytest.raises(StudentError, student.weird).value
    assert not isinstance(err, (KeyError, ValueError, TypeError, AttributeError)) and err.etype == "Weird"
    assert client(student).platform_failure is None  # the learner's errors are not the platform's


def test_hasattr_dict_list_in_and_next_through_handles(student):
    model = student.Model()
    assert hasattr(model, "lin") and not hasattr(model, "nope")
    with pytest.raises(AttributeError):
        _ = model.nope
    params = dict(model.named_parameters())
    assert set(params) == {"lin.weight", "lin.bias"}
    assert all(isinstance(p, torch.nn.Parameter) for p in params.values())
    sd = model.state_dict()
    assert list(sd) == ["lin.weight", "lin.bias"] and "lin.bias" in sd
    bag = student.Bag()
    assert list(bag) == ["a"] and "a" in bag and "b" not in bag
    g = student.gen()
    assert next(g) == 1
    with pytest.raises(StopIteration) as info:
        next(g)
    assert isinstance(info.value, StudentStopIteration)
    assert isinstance(pytest.raises(AttributeError, getattr, model, "missing").value, StudentAttributeError)


def test_self_is_forwarded_as_a_keyword(student):
    assert functools.partial(student.method, self=3)(y=4) == (3, 4)
    assert student.method(self=1, y=2) == (1, 2)


def test_handles_are_still_not_data(student):
    model = student.Model()
    for use in (bool, float, int, lambda m: m < 1):
        with pytest.raises(NotData):
            use(model)
    assert client(student).platform_failure is not None


def test_platform_failures_are_noted_even_when_caught(student):
    c = client(student)
    assert c.platform_failure is None
    try:
        student.identity(object())  # a judge object that cannot cross
    except Exception:
        pass
    assert "cannot be sent" in c.platform_failure
    first = c.platform_failure
    try:
        student.identity(lambda: 1)
    except Exception:
        pass
    assert c.platform_failure == first  # the first one is kept


def test_hasattr_on_student_for_names_the_notebook_lacks(student):
    assert hasattr(student, "check") and not hasattr(student, "undefined_name")
    with pytest.raises(AssertionError, match="does not define 'undefined_name'"):
        _ = student.undefined_name
    assert client(student).platform_failure is None


def test_one_handle_per_kernel_object(student):
    model = student.Model()
    assert model.lin is model.lin
    assert {model.lin: "layer"}[model.lin] == "layer"
    assert model.lin is not student.Model().lin


def test_class_checks_against_the_judges_classes(student):
    model = student.Model()
    assert isinstance(model, torch.nn.Module) and isinstance(model.lin, torch.nn.Linear)
    assert not isinstance(model, torch.nn.Linear) and not isinstance(model, (int, float, dict))
    assert issubclass(student.Model, torch.nn.Module) and not issubclass(student.Model, torch.nn.Linear)
    assert model.__class__.__name__ == "Model"
    assert not isinstance(student.Bag(), torch.nn.Module)
    # A learner's object never passes for a tensor or an array: real ones cross as data.
    assert not isinstance(student.Liar(), (torch.Tensor, np.ndarray)) and isinstance(student.Liar(), student.Liar)


def test_state_dict_round_trip_and_loading_a_reference(student):
    model = student.Model()
    reference = torch.nn.Module()
    reference.lin = torch.nn.Linear(2, 3)
    with torch.no_grad():
        reference.lin.weight.fill_(0.5)
    result = model.load_state_dict(reference.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = torch.ones(1, 2)
    torch.testing.assert_close(model(x), reference.lin(x))
    copy_of_learner = torch.nn.Module()
    copy_of_learner.lin = torch.nn.Linear(2, 3)
    copy_of_learner.load_state_dict(model.state_dict())
    assert isinstance(model.lin.weight, torch.nn.Parameter) and model.lin.weight.requires_grad


def test_writes_through_handles_reach_the_learners_tensors(student):
    model = student.Model()
    model.lin.weight.data[:] = 0
    with torch.no_grad():
        model.lin.bias.zero_()
    assert torch.count_nonzero(model(torch.ones(1, 2))) == 0  # the learner's forward saw the zeros
    weight = model.lin.weight
    assert weight is model.lin.weight  # one judge tensor per learner tensor, refreshed in place
    holder = student.Holder()
    holder.w[:] = 1.0
    holder.t.mul_(2)
    assert holder.total() == 4.0 + 6.0
    assert client(student).platform_failure is None


def test_copies_of_handles_are_made_in_the_kernel(student):
    model = student.Model()
    clone = copy.deepcopy(model)
    assert clone is not model and isinstance(clone, torch.nn.Module)
    with torch.no_grad():
        clone.lin.weight.fill_(1.0)
    assert not torch.equal(model.lin.weight, clone.lin.weight)
    assert copy.copy(student.Bag()) is not None


def test_with_blocks_and_the_learners_exit_never_swallows(student):
    scope = student.Scope()
    with scope as inside:
        assert inside is scope
    with pytest.raises(AssertionError):
        with scope:
            raise AssertionError("the test's own failure")
    assert scope.log == ["enter", "exit", "enter", "exit-with-error"]


@dataclass
class Node:
    name: str
    children: list = field(default_factory=list)


def test_graphs_of_dataclass_nodes_keep_shared_nodes_and_cycles(student):
    leaf = Node("leaf")
    middle = Node("middle", [leaf])
    root = Node("root", [leaf, middle])
    leaf.children.append(root)  # a cycle
    order, shared = student.visit_order(root)
    assert order == ["root", "leaf", "middle"] and shared is True
    back = student.identity(root)
    assert isinstance(back, Node) and back.children[1].children[0] is back.children[0]
    assert back.children[0].children[0] is back


def test_declared_codecs_cross_both_ways(student, codecs):
    half = student.halve(Fraction(3, 4))
    assert isinstance(half, Fraction) and half == Fraction(3, 8)


def test_judge_functions_are_refused_with_a_pointer_to_kernel_helpers(student):
    with pytest.raises(wire.WireError, match="kernel helper"):
        student.identity(lambda node: node)
    assert "kernel helper" in client(student).platform_failure


def test_kernel_helpers_run_in_the_kernel_on_the_learners_objects(student, tmp_path):
    folder = tmp_path / "kernel_helpers"
    folder.mkdir()
    (folder / "training.py").write_text(
        "import torch\n"
        "def zero_and_run(model_cls):\n"
        "    model = model_cls()\n"
        "    for p in model.parameters():\n"
        "        torch.nn.init.ones_(p)\n"
        "    return model(torch.ones(1, 2))\n"
    )
    helpers = KernelHelpers(client(student), folder)
    out = helpers.training.zero_and_run(student.Model)
    torch.testing.assert_close(out, torch.full((1, 3), 3.0))
    assert helpers.training is helpers.training
    with pytest.raises(AttributeError, match="no tests/kernel_helpers/missing.py"):
        _ = helpers.missing
