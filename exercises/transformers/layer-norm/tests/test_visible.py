"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_example(student):
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]])
    got = student.layer_norm(x, torch.tensor([1.0, 1.0, 2.0, 2.0]), torch.tensor([0.0, 0.0, 0.0, 1.0]))
    assert isinstance(got, torch.Tensor), f"layer_norm returned {type(got).__name__}, expected a tensor"
    assert got.shape == (2, 4), f"shape {tuple(got.shape)}, expected {(2, 4)}"
    # Row 1: mean 2.5, biased variance 1.25, so (x - 2.5) / sqrt(1.25 + 1e-5), then times w plus b.
    # Row 2 is constant: (x - mean) is 0, so the output is b.
    expected = torch.tensor([[-1.3416354, -0.4472118, 0.8944236, 3.6832708], [0.0, 0.0, 0.0, 1.0]])
    torch.testing.assert_close(got, expected)


@pytest.mark.points(1)
def test_rows_have_zero_mean_and_unit_variance(student):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 16, generator=g) * 3 + 7
    got = student.layer_norm(x, torch.ones(16), torch.zeros(16))
    assert isinstance(got, torch.Tensor), f"layer_norm returned {type(got).__name__}, expected a tensor"
    assert got.shape == (5, 16), f"shape {tuple(got.shape)}, expected (5, 16)"
    torch.testing.assert_close(got.mean(-1), torch.zeros(5), atol=1e-5, rtol=0, msg="each row should have mean 0")
    # Mean of squares over d (the biased variance) is 1 up to the eps in the root.
    torch.testing.assert_close((got**2).mean(-1), torch.ones(5), atol=1e-4, rtol=0, msg="each row should have (biased) variance 1")
