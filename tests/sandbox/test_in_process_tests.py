"""Tests written for an in-process grader, graded in the real sandbox (issue 11).

Each bundle is graded against a correct notebook (full marks) and a wrong one (loses exactly the
test that checks what it got wrong).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.engine import grade
from grader.result import Verdict
from tests.support import notebook

pytestmark = pytest.mark.docker

FAST = {"timeout_s": 20, "cell_timeout_s": 10, "tests_timeout_s": 40, "test_timeout_s": 5, "memory_mb": 1024}


def _statuses(result):
    assert result.verdict == Verdict.GRADED, result.output
    return {t.name: t.status for t in result.tests}


# --- A: a platform failure is never a pass ------------------------------------------------------

PLATFORM_TESTS = """
import pytest

@pytest.mark.points(1)
def test_swallowed_send_failure(student):
    try:
        student.identity(object())  # a judge object cannot cross: the platform fails, not the learner
    except Exception:
        pass
    assert student.identity(2) == 2

@pytest.mark.points(1)
def test_negative_is_rejected(student):
    try:
        student.check(-1)
    except:  # an author's bare except: it also catches what the platform raises
        return
    assert False, "check(-1) should raise"

@pytest.mark.points(1)
def test_positive(student):
    assert student.check(3) == 3
"""

RIGHT_CHECK = """
def identity(x):
    return x

def check(x):
    if x < 0:
        raise ValueError("negative")
    return x
"""

# Wrong: returns something for -1 instead of raising, and it is too big to cross.
WRONG_CHECK = """
import numpy as np

def identity(x):
    return x

def check(x):
    if x < 0:
        return np.ones((100, 2**20), dtype=np.uint8)
    return x
"""


def test_platform_failures_caught_by_the_test_are_errors(make_bundle, sandbox_settings):
    bundle = make_bundle(PLATFORM_TESTS, limits=FAST | {"max_message_mb": 64})
    right = grade(bundle, notebook(RIGHT_CHECK), sandbox_settings)
    statuses = _statuses(right)
    # No notebook can pass a test whose own code made the platform fail.
    assert statuses == {"test_swallowed_send_failure": "error", "test_negative_is_rejected": "passed",
                        "test_positive": "passed"}, right.tests  # fmt: skip
    swallowed = next(t for t in right.tests if t.name == "test_swallowed_send_failure")
    assert "could not check" in swallowed.output and "cannot be sent" in swallowed.output
    assert right.score == 2

    wrong = grade(bundle, notebook(WRONG_CHECK), sandbox_settings)
    statuses = _statuses(wrong)
    assert statuses["test_negative_is_rejected"] == "error", wrong.tests  # not a free point
    negative = next(t for t in wrong.tests if t.name == "test_negative_is_rejected")
    assert "too large" in negative.output
    assert statuses["test_positive"] == "passed" and wrong.score == 1


# --- B: builtin exception kinds, hasattr and iteration through handles, self as a keyword ------

HANDLE_TESTS = """
import functools
import pytest
import torch

@pytest.mark.points(1)
def test_module_introspection(student):
    model = student.TwoLayer(4, 8, 2)
    assert hasattr(model, "fc1") and hasattr(model, "fc2"), "TwoLayer needs fc1 and fc2"
    assert not hasattr(model, "fc3")
    params = dict(model.named_parameters())
    assert set(params) == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}, sorted(params)
    assert all(isinstance(p, torch.nn.Parameter) and p.requires_grad for p in params.values())
    assert len(list(model.children())) == 2

@pytest.mark.points(1)
def test_vocab_lookup(student):
    vocab = student.Vocab(["a", "b"])
    assert "a" in vocab and "z" not in vocab
    assert list(vocab) == ["a", "b"]
    with pytest.raises(KeyError):
        vocab["z"]
    with pytest.raises(ValueError):
        student.Vocab(["a", "a"])

@pytest.mark.points(1)
def test_method_with_self_keyword(student):
    scale = functools.partial(student.scale, self=2.0)
    assert scale(x=3.0) == 6.0
"""

HANDLE_NB = """
import torch

class TwoLayer(torch.nn.Module):
    def __init__(self, d_in, d_hidden, d_out):
        super().__init__()
        self.fc1 = torch.nn.Linear(d_in, d_hidden)
        self.fc2 = torch.nn.Linear(d_hidden, d_out)
    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))

class Vocab:
    def __init__(self, words):
        if len(set(words)) != len(words):
            raise ValueError("duplicate words")
        self.index = {w: i for i, w in enumerate(words)}
    def __getitem__(self, w):
        return self.index[w]
    def __iter__(self):
        return iter(self.index)

def scale(self, x):
    return self * x
"""


def test_exception_kinds_and_handles_in_the_sandbox(make_bundle, sandbox_settings):
    bundle = make_bundle(HANDLE_TESTS, limits=FAST)
    right = grade(bundle, notebook(HANDLE_NB), sandbox_settings)
    assert right.score == right.max_score == 3, right.tests
    # Wrong: the lookup returns -1 for unknown words instead of raising KeyError.
    wrong_nb = HANDLE_NB.replace("return self.index[w]", "return self.index.get(w, -1)")
    statuses = _statuses(grade(bundle, notebook(wrong_nb), sandbox_settings))
    assert statuses == {"test_module_introspection": "passed", "test_vocab_lookup": "failed",
                        "test_method_with_self_keyword": "passed"}  # fmt: skip


# --- C: plain values by value -------------------------------------------------------------------

VALUE_TESTS = """
from collections import OrderedDict
import dataclasses
import numpy as np
import pytest
import torch

@pytest.mark.points(1)
def test_state_dict_and_parameters(student):
    sd = student.model.state_dict()
    assert isinstance(sd, OrderedDict) and list(sd) == ["weight", "bias"]
    torch.testing.assert_close(sd["weight"], torch.full((2, 3), 0.5))
    bias = student.model.bias
    assert isinstance(bias, torch.nn.Parameter) and not bias.requires_grad
    assert student.model.weight.dtype == torch.float32 and student.dtype is torch.float64
    assert student.where == torch.device("cpu")

@pytest.mark.points(1)
def test_stats_record(student):
    stats = student.summarize([1.0, 2.0, 3.0])
    assert stats.mean == 2.0 and stats.count == 3 and stats == (2.0, 3)
    assert type(stats).__name__ == "Stats"
    cfg = student.make_config(16)
    assert dataclasses.is_dataclass(cfg) and dataclasses.asdict(cfg) == {"d_model": 16, "n_heads": 4}
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.d_model = 1

@pytest.mark.points(1)
def test_scalars_and_sets(student):
    total = student.total(np.arange(4, dtype=np.int32))
    assert type(total) is np.int64 and total == 6
    assert student.unique([1, 2, 2]) == {1, 2}
"""

VALUE_NB = """
from collections import namedtuple
from dataclasses import dataclass
import numpy as np, torch

model = torch.nn.Linear(3, 2)
with torch.no_grad():
    model.weight.fill_(0.5)
model.bias.requires_grad_(False)
dtype = torch.float64
where = torch.device("cpu")

Stats = namedtuple("Stats", ["mean", "count"])

def summarize(xs):
    return Stats(sum(xs) / len(xs), len(xs))

@dataclass
class Config:
    d_model: int
    n_heads: int = 4

def make_config(d):
    return Config(d)

def total(a):
    return np.sum(a, dtype=np.int64)

def unique(xs):
    return set(xs)
"""


def test_plain_values_by_value_in_the_sandbox(make_bundle, sandbox_settings):
    bundle = make_bundle(VALUE_TESTS, limits=FAST)
    right = grade(bundle, notebook(VALUE_NB), sandbox_settings)
    assert right.score == right.max_score == 3, right.tests
    # Wrong: the mean is a sum.
    wrong_nb = VALUE_NB.replace("sum(xs) / len(xs)", "sum(xs)")
    statuses = _statuses(grade(bundle, notebook(wrong_nb), sandbox_settings))
    assert statuses == {"test_state_dict_and_parameters": "passed", "test_stats_record": "failed",
                        "test_scalars_and_sets": "passed"}  # fmt: skip


# --- the proof: a course's in-process tests, unchanged, against a right and a buggy notebook -------

COURSE = Path(__file__).resolve().parent / "in-process-course"

COURSE_NB = """
from fractions import Fraction
import torch
import torch.nn as nn

class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.W_in = nn.Parameter(torch.randn(cfg.d_model, cfg.d_hidden) * 0.1)
        self.b_in = nn.Parameter(torch.zeros(cfg.d_hidden))
        self.W_out = nn.Parameter(torch.randn(cfg.d_hidden, cfg.n_classes) * 0.1)
        self.b_out = nn.Parameter(torch.zeros(cfg.n_classes))
    def forward(self, x):
        return torch.relu(x @ self.W_in + self.b_in) @ self.W_out + self.b_out

class TiedSAE(nn.Module):
    def __init__(self, d_in, d_sae):
        super().__init__()
        self.W_enc = nn.Parameter(torch.randn(d_in, d_sae) * 0.1)
        self.W_dec = nn.Parameter(torch.randn(d_sae, d_in) * 0.1)
        self.b_dec = nn.Parameter(torch.zeros(d_in))
    def forward(self, x):
        acts = torch.relu((x - self.b_dec) @ self.W_enc)
        return acts @ self.W_dec + self.b_dec

class SGD:
    def __init__(self, params, lr, momentum=0.0):
        self.params = list(params)
        self.lr, self.momentum = lr, momentum
        self.velocity = [torch.zeros_like(p) for p in self.params]
    def zero_grad(self):
        for p in self.params:
            p.grad = None
    @torch.no_grad()
    def step(self):
        for p, v in zip(self.params, self.velocity):
            v.mul_(self.momentum).add_(p.grad)
            p -= self.lr * v

def topological_sort(node):
    order, seen = [], set()
    def visit(n):
        if id(n) in seen:
            return
        seen.add(id(n))
        for child in n.children:
            visit(child)
        order.append(n)
    visit(node)
    return order[::-1]

def harmonic(n):
    return sum((Fraction(1, k) for k in range(1, int(n) + 1)), Fraction(0))
"""

# Three bugs a learner makes: no ReLU, momentum ignored, the order not reversed.
COURSE_BUGS = {
    "return torch.relu(x @ self.W_in + self.b_in) @ self.W_out": "return (x @ self.W_in + self.b_in) @ self.W_out",
    "v.mul_(self.momentum).add_(p.grad)": "v.mul_(0).add_(p.grad)",
    "return order[::-1]": "return order",
}


def test_a_courses_in_process_tests_run_unchanged(sandbox_settings):
    right = grade(COURSE, notebook(COURSE_NB), sandbox_settings)
    assert right.score == right.max_score == 6, [(t.name, t.status, t.output) for t in right.tests]
    buggy_nb = COURSE_NB
    for before, after in COURSE_BUGS.items():
        assert before in buggy_nb
        buggy_nb = buggy_nb.replace(before, after)
    buggy = grade(COURSE, notebook(buggy_nb), sandbox_settings)
    statuses = _statuses(buggy)
    assert statuses == {"test_mlp": "failed", "test_sae": "passed", "test_sgd": "failed",
                        "test_topological_sort": "failed", "test_harmonic": "passed",
                        "test_is_module": "passed"}, buggy.tests  # fmt: skip
    outputs = {t.name: t.output for t in buggy.tests}
    # The course's hints reach the learner; nothing else of the hidden tests does.
    assert "Hint: is there a ReLU between the two layers?" in outputs["test_mlp"]
    assert "differs after 20 steps" in outputs["test_sgd"]
    assert "parents come before children" in outputs["test_topological_sort"]


# --- codecs an environment declares: TransformerLens' FactoredMatrix crosses as its factors -------

FACTORED_TESTS = """
import pytest
import torch
from transformer_lens import FactoredMatrix

@pytest.mark.points(1)
def test_ov_circuit(student):
    ov = student.ov_circuit(torch.eye(3), 2 * torch.eye(3))
    assert isinstance(ov, FactoredMatrix)
    torch.testing.assert_close(ov.AB, 2 * torch.eye(3))
    torch.testing.assert_close(student.trace_of(FactoredMatrix(torch.eye(2), torch.eye(2))), torch.tensor(2.0))
"""

FACTORED_NB = """
from transformer_lens import FactoredMatrix

def ov_circuit(W_V, W_O):
    return FactoredMatrix(W_V, W_O)

def trace_of(m):
    assert isinstance(m, FactoredMatrix)
    return m.AB.trace()
"""


def test_environment_codecs_carry_library_types(make_bundle, sandbox_settings):
    bundle = make_bundle(FACTORED_TESTS, environment="mi")
    result = grade(bundle, notebook(FACTORED_NB), sandbox_settings)
    assert result.score == result.max_score == 1, result.tests
