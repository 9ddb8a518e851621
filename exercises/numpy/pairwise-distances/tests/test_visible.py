"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_example(student):
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    b = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 4.0]])
    got = student.pairwise_distances(a, b)
    assert isinstance(got, np.ndarray), f"pairwise_distances returned {type(got).__name__}, expected a numpy array"
    assert got.shape == (2, 3), f"shape {got.shape}, expected (n, m) = (2, 3)"
    expected = np.array([[0.0, 1.0, 4.0], [5.0, np.sqrt(20.0), 3.0]])
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-7)


@pytest.mark.points(1)
def test_one_point_each(student):
    got = student.pairwise_distances(np.array([[1.0, 2.0, 2.0]]), np.array([[0.0, 0.0, 0.0]]))
    assert isinstance(got, np.ndarray), f"pairwise_distances returned {type(got).__name__}, expected a numpy array"
    assert got.shape == (1, 1), f"shape {got.shape}, expected (1, 1): keep both axes even when n = m = 1"
    np.testing.assert_allclose(got, [[3.0]], rtol=1e-7)
