"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest
import torch

pytestmark = pytest.mark.visible


def pentagon():
    # Five unit features at 72 degrees from each other in two dimensions. For each feature the
    # squared cosines with all five are 1 + 2 cos^2(72) + 2 cos^2(144) = 2.5, so D_i = 1 / 2.5.
    angles = torch.arange(5) * 2 * math.pi / 5
    return torch.stack([torch.cos(angles), torch.sin(angles)])


@pytest.mark.points(2)
def test_pentagon(student):
    W = pentagon()
    torch.testing.assert_close(student.feature_norms(W), torch.ones(5))
    torch.testing.assert_close(student.superposition_interference(W), torch.full((5,), 1.5))
    torch.testing.assert_close(student.feature_dimensionality(W), torch.full((5,), 0.4))
    assert abs(float(student.dimensions_per_feature(W)) - 0.4) < 1e-5, "2 dimensions / 5 features = 0.4"


@pytest.mark.points(1)
def test_two_orthogonal_features_and_three_dropped(student):
    W = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(student.feature_norms(W), torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0]))
    torch.testing.assert_close(student.superposition_interference(W), torch.zeros(5))
    torch.testing.assert_close(student.feature_dimensionality(W), torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0]))
    assert abs(float(student.dimensions_per_feature(W)) - 1.0) < 1e-5, "2 dimensions / ||W||_F^2 = 2 / 2 = 1"


@pytest.mark.points(2)
def test_dense_features_are_not_superposed(student):
    # With every feature always present, interference costs too much: the toy model keeps the two
    # most important features, each with a dimension of its own, and drops the other three.
    importance = 0.9 ** torch.arange(5.0)
    model = student.train_toy_model(5, 2, 1.0, importance, 2000, 1024, 1e-2, 0)
    norms = model.W.detach().norm(dim=0)
    assert (norms[:2] > 0.9).all() and (norms[2:] < 0.15).all(), (
        f"column norms {norms.tolist()}, expected about [1, 1, 0, 0, 0]"
    )
