"""A course's own tests, written for a grader that runs inside the learner's process.

The ``check_*`` functions are as the course wrote them: they take the learner's class or
function, instantiate it with a dataclass config, load a reference ``state_dict``, check
parameter registration, write into the learner's tensors, hand it a graph of nodes, and give
hints in their assertion messages. Each pytest test hands them the learner's object. Only the
optimizer check changed: its training loop runs in the kernel (``kernel_helpers/training.py``),
and the reference run of the same loop with ``torch.optim.SGD`` runs here.
"""

import copy
from dataclasses import dataclass, field
from fractions import Fraction

import pytest
import torch
import torch.nn as nn
from kernel_helpers import training as reference_training


@dataclass
class MLPConfig:
    d_model: int = 8
    d_hidden: int = 16
    n_classes: int = 3


class ReferenceMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.W_in = nn.Parameter(torch.randn(cfg.d_model, cfg.d_hidden))
        self.b_in = nn.Parameter(torch.randn(cfg.d_hidden))
        self.W_out = nn.Parameter(torch.randn(cfg.d_hidden, cfg.n_classes))
        self.b_out = nn.Parameter(torch.randn(cfg.n_classes))

    def forward(self, x):
        return torch.relu(x @ self.W_in + self.b_in) @ self.W_out + self.b_out


@dataclass(eq=False)
class Node:
    name: str
    children: list = field(default_factory=list)


def check_mlp(MLP):
    cfg = MLPConfig()
    model = MLP(cfg)
    assert isinstance(model, nn.Module), "MLP must subclass nn.Module"
    assert isinstance(model, MLP)
    params = dict(model.named_parameters())
    assert set(params) == {"W_in", "b_in", "W_out", "b_out"}, f"expected W_in, b_in, W_out, b_out; got {sorted(params)}"
    for name, p in params.items():
        assert isinstance(p, nn.Parameter), f"{name} must be registered as an nn.Parameter"
    reference = ReferenceMLP(cfg)
    model.load_state_dict(reference.state_dict())
    x = torch.randn(5, cfg.d_model)
    torch.testing.assert_close(model(x), reference(x), msg="Hint: is there a ReLU between the two layers?")
    twin = copy.deepcopy(model)
    assert twin is not model and twin.W_in is not model.W_in
    torch.testing.assert_close(twin(x), model(x))


def check_sae(SAE):
    torch.manual_seed(1)
    sae = SAE(4, 8)
    assert sae.W_dec is sae.W_dec
    sae.W_dec.data[:] = 0
    x = torch.randn(3, 4)
    torch.testing.assert_close(sae(x), sae.b_dec.detach().expand(3, 4), msg="Hint: a zero decoder outputs b_dec")
    with torch.no_grad():
        sae.b_dec.fill_(1.0)
    torch.testing.assert_close(sae(x), torch.ones(3, 4), msg="Hint: add b_dec back after decoding")


def check_sgd(SGD, train):
    for kwargs in ({"lr": 0.1}, {"lr": 0.05, "momentum": 0.9}):
        expected = reference_training.train(torch.optim.SGD, **kwargs)
        got = train(SGD, **kwargs)
        assert set(got) == set(expected)
        for name, value in expected.items():
            torch.testing.assert_close(got[name], value, msg=f"SGD({kwargs}): {name} differs after 20 steps")


def check_topological_sort(topological_sort):
    a = Node("a")
    b = Node("b", [a])
    c = Node("c", [a])
    d = Node("d", [b, c])
    order = [node.name for node in topological_sort(d)]
    assert sorted(order) == ["a", "b", "c", "d"], f"every node once: {order}"
    assert order.index("d") < order.index("b") < order.index("a"), f"parents come before children: {order}"
    assert order.index("c") < order.index("a"), f"parents come before children: {order}"


def check_harmonic(harmonic):
    assert isinstance(harmonic(1), Fraction), "return an exact Fraction"
    assert harmonic(4) == Fraction(25, 12)
    assert harmonic(Fraction(2)) == Fraction(3, 2)


@pytest.mark.points(1)
def test_mlp(student):
    check_mlp(student.MLP)


@pytest.mark.points(1)
def test_sae(student):
    check_sae(student.TiedSAE)


@pytest.mark.points(1)
def test_sgd(student, kernel_helpers):
    check_sgd(student.SGD, kernel_helpers.training.train)


@pytest.mark.points(1)
def test_topological_sort(student):
    check_topological_sort(student.topological_sort)


@pytest.mark.points(1)
def test_harmonic(student):
    check_harmonic(student.harmonic)


@pytest.mark.points(1)
def test_is_module(student):
    assert issubclass(student.TiedSAE, nn.Module) and hasattr(student.TiedSAE(2, 2), "W_enc")
