"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example(student):
    # Singular values 3 and 2: the best rank-1 approximation keeps the 3 and drops the -2.
    A = np.array([[3.0, 0.0], [0.0, -2.0], [0.0, 0.0]])
    got = student.low_rank(A, 1)
    assert isinstance(got, np.ndarray), f"low_rank returned {type(got).__name__}, expected a numpy array"
    assert got.shape == (3, 2), f"shape {got.shape}, expected the shape of A, (3, 2)"
    np.testing.assert_allclose(got, [[3.0, 0.0], [0.0, 0.0], [0.0, 0.0]], atol=1e-12)

    frac = student.explained_variance(A, 1)
    assert isinstance(frac, (float, np.floating)), (
        f"explained_variance returned {type(frac).__name__}, expected a float"
    )
    assert abs(frac - 9 / 13) < 1e-12, f"explained_variance(A, 1) = {frac}, expected 3**2 / (3**2 + 2**2) = {9 / 13}"
