"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest
import torch

pytestmark = pytest.mark.visible


def as_dict(got):
    assert isinstance(got, dict), f"mlp_backward returned {type(got).__name__}, expected a dict"
    assert sorted(got) == ["W1", "W2", "b1", "b2"], f"keys {sorted(got)}, expected W1, b1, W2, b2"
    return got


@pytest.mark.points(1)
def test_one_example_one_hidden_unit(student):
    s = 1 / (1 + math.exp(-2))  # softmax([1, -1])[0]
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    got = as_dict(student.mlp_backward(t([[1.0]]), t([[1.0]]), t([0.0]), t([[1.0, -1.0]]), t([0.0, 0.0]), torch.tensor([1])))
    expected = {"W1": t([[2 * s]]), "b1": t([2 * s]), "W2": t([[s, -s]]), "b2": t([s, -s])}
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, msg=lambda m, name=name: f"d{name}: {m}")


@pytest.mark.points(1)
def test_inactive_relu_blocks_the_gradient(student):
    # b1 = -2 makes h_pre = -1, so the hidden unit is off: no gradient reaches W1, b1 or W2.
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    got = as_dict(student.mlp_backward(t([[1.0]]), t([[1.0]]), t([-2.0]), t([[1.0, -1.0]]), t([0.0, 0.0]), torch.tensor([1])))
    expected = {"W1": t([[0.0]]), "b1": t([0.0]), "W2": t([[0.0, 0.0]]), "b2": t([0.5, -0.5])}
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, msg=lambda m, name=name: f"d{name}: {m}")
