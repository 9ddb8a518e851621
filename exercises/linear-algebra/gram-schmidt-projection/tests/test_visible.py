"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example(student):
    # Columns (1, 1, 0), (1, 0, 0) and (2, 1, 0), the sum of the first two, so it is dropped.
    V = np.array([[1.0, 1.0, 2.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    Q = student.orthonormalize(V)
    assert isinstance(Q, np.ndarray), f"orthonormalize returned {type(Q).__name__}, expected a numpy array"
    assert Q.shape == (3, 2), f"shape {Q.shape}, expected (3, 2): the third column depends on the first two"
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(Q, [[s, s], [s, -s], [0.0, 0.0]], atol=1e-12)

    p = student.project(np.array([1.0, 2.0, 3.0]), Q)
    assert isinstance(p, np.ndarray), f"project returned {type(p).__name__}, expected a numpy array"
    # The span is the xy-plane: projecting drops the z component.
    np.testing.assert_allclose(p, [1.0, 2.0, 0.0], atol=1e-12)
