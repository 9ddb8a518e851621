"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_one_step_by_hand(student):
    # Zero weights: p = 0.5 for both rows, loss = log 2; dL/dw = mean((p - y) x) = -0.5, so w = 0.5.
    X = torch.tensor([[1.0], [-1.0]])
    y = torch.tensor([1.0, 0.0])
    w, b, losses = student.train_logistic(X, y, 1, 1.0, 2)
    assert isinstance(w, torch.Tensor) and tuple(w.shape) == (1,), f"w should be a tensor of shape (d,) = (1,), got {w!r}"
    torch.testing.assert_close(w, torch.tensor([0.5]))
    assert abs(b) < 1e-6, f"b = {b}, expected 0"
    assert len(losses) == 1 and math.isclose(losses[0], math.log(2), rel_tol=1e-6), f"losses {losses}, expected [log 2]"


@pytest.mark.points(1)
def test_two_steps_by_hand(student):
    X = torch.tensor([[1.0], [-1.0]])
    y = torch.tensor([1.0, 0.0])
    w, b, losses = student.train_logistic(X, y, 2, 1.0, 2)
    torch.testing.assert_close(w, torch.tensor([0.8775406]), rtol=1e-5, atol=1e-6)
    expected = [math.log(2), math.log(1 + math.exp(-0.5))]
    assert len(losses) == 2, f"{len(losses)} losses for 2 epochs of 1 batch, expected 2"
    assert all(math.isclose(a, e, rel_tol=1e-5) for a, e in zip(losses, expected)), f"losses {losses}, expected {expected}"
