"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_gelu_new_values(student):
    x = torch.tensor([-3.0, -1.0, 0.0, 0.5, 1.0, 3.0])
    got = student.gelu_new(x)
    assert isinstance(got, torch.Tensor), f"gelu_new returned {type(got).__name__}, expected a tensor"
    # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), worked out by hand at these points.
    expected = torch.tensor([-0.0036373921, -0.1588080094, 0.0, 0.3457140098, 0.8411919906, 2.9963626079])
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-6)


@pytest.mark.points(1)
def test_mlp_with_one_hidden_unit(student):
    # One hidden unit that reads feature 0 and writes feature 1: out = [0, gelu_new(x0)] + b_out.
    x = torch.tensor([[[1.0, 5.0], [-1.0, 2.0]]])
    W_in, b_in = torch.tensor([[1.0], [0.0]]), torch.zeros(1)
    W_out, b_out = torch.tensor([[0.0, 1.0]]), torch.tensor([0.5, 0.0])
    got = student.mlp(x, W_in, b_in, W_out, b_out)
    assert isinstance(got, torch.Tensor), f"mlp returned {type(got).__name__}, expected a tensor"
    assert got.shape == (1, 2, 2), f"shape {tuple(got.shape)}, expected (batch, seq, d_model) = (1, 2, 2)"
    expected = torch.tensor([[[0.5, 0.8411919906], [0.5, -0.1588080094]]])
    torch.testing.assert_close(got, expected, rtol=0, atol=2e-6)
