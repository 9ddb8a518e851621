"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
import torch

pytestmark = pytest.mark.visible

# Three features in two dimensions: feature 0 along e0, feature 1 along e1, feature 2 along e0 - e1.
W = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, -1.0]])
B = torch.tensor([0.0, -0.5, 0.1])
X = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
# W^T W = [[1, 0, 1], [0, 1, -1], [1, -1, 2]], so x W^T W + b = [[1, -0.5, 1.1], [0.5, -0.5, 0.6]].
OUT = torch.tensor([[1.0, 0.0, 1.1], [0.5, 0.0, 0.6]])


@pytest.mark.points(1)
def test_forward_example(student):
    model = student.ToyModel(3, 2)
    model.load_state_dict({"W": W, "b_final": B})
    got = model(X)
    assert isinstance(got, torch.Tensor), f"ToyModel returned {type(got).__name__}, expected a tensor"
    assert got.shape == (2, 3), f"shape {tuple(got.shape)}, expected (batch, n_features) = (2, 3)"
    torch.testing.assert_close(got, OUT)


@pytest.mark.points(1)
def test_loss_example(student):
    importance = torch.tensor([1.0, 0.5, 0.25])
    # Row 0 misses by (0, 0, -1.1): 0.25 * 1.21 = 0.3025. Row 1 by (-0.5, 0.5, -0.1): 0.25 + 0.125 + 0.0025.
    got = student.importance_weighted_loss(OUT, X, importance)
    assert isinstance(got, torch.Tensor), f"importance_weighted_loss returned {type(got).__name__}, expected a tensor"
    torch.testing.assert_close(got, torch.tensor(0.34))


@pytest.mark.points(1)
def test_generate_batch_shape_and_values(student):
    x = student.generate_batch(1000, 4, 0.25)
    assert isinstance(x, torch.Tensor), f"generate_batch returned {type(x).__name__}, expected a tensor"
    assert x.shape == (1000, 4), f"shape {tuple(x.shape)}, expected (n_batch, n_features) = (1000, 4)"
    assert x.dtype == torch.float32, f"dtype {x.dtype}, expected float32"
    assert (x >= 0).all() and (x < 1).all(), "values must lie in [0, 1)"
    share = (x > 0).float().mean().item()
    assert 0.18 < share < 0.32, f"{share:.3f} of the entries are non-zero, expected about 0.25"
