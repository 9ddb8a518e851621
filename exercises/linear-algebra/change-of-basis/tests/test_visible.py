"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible

# Columns b_1 = (1, 0) and b_2 = (1, 1).
B = np.array([[1.0, 1.0], [0.0, 1.0]])


@pytest.mark.points(2)
def test_example(student):
    got = student.to_basis(np.array([3.0, 2.0]), B)
    assert isinstance(got, np.ndarray), f"to_basis returned {type(got).__name__}, expected a numpy array"
    # (3, 2) = 1 * (1, 0) + 2 * (1, 1)
    np.testing.assert_allclose(got, [1.0, 2.0], atol=1e-12)

    back = student.from_basis(np.array([1.0, 2.0]), B)
    assert isinstance(back, np.ndarray), f"from_basis returned {type(back).__name__}, expected a numpy array"
    np.testing.assert_allclose(back, [3.0, 2.0], atol=1e-12)

    batch = student.to_basis(np.array([[3.0, 2.0], [1.0, 0.0], [0.0, 1.0]]), B)
    assert isinstance(batch, np.ndarray), f"to_basis returned {type(batch).__name__}, expected a numpy array"
    assert batch.shape == (3, 2), f"shape {batch.shape}, expected (k, n) = (3, 2): one row of coordinates per vector"
    np.testing.assert_allclose(batch, [[1.0, 2.0], [1.0, 0.0], [-1.0, 1.0]], atol=1e-12)
