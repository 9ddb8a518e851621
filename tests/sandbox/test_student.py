"""The judge's ``student`` proxy against a real kernel server in this process (no Docker).

What tests written for an in-process grader rely on: learner exceptions of the usual builtin kinds,
hasattr and iteration through handles, ``self`` as a keyword, and platform failures being noted.
"""

from __future__ import annotations

import functools

import pytest
import torch

from sandbox.runtime import kernel_server
from sandbox.runtime.student import (
    KernelClient,
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
"""


@pytest.fixture
def student(tmp_path):
    ns: dict = {}
    exec(compile(NOTEBOOK, "<notebook>", "exec"), ns)
    path = str(tmp_path / "kernel.sock")
    kernel_server.serve(ns, path)
    return Student(KernelClient(path, 1 << 26))


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
