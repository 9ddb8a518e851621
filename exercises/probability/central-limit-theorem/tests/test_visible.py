"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example(student):
    z = student.standardize_means(np.array([1.1, 0.9, 1.0]), 100)
    assert isinstance(z, np.ndarray), f"standardize_means returned {type(z).__name__}, expected a numpy array"
    # Averages of 100 draws with sigma = 1 have standard error 1 / sqrt(100) = 0.1.
    np.testing.assert_allclose(z, [1.0, -1.0, 0.0], atol=1e-9)

    se = student.standard_error(np.array([1.0, 2.0, 3.0, 4.0]))
    assert isinstance(se, (float, np.floating)), f"standard_error returned {type(se).__name__}, expected a float"
    # s**2 = 5 / 3 (ddof=1), n = 4
    assert abs(se - math.sqrt(5 / 3) / 2) < 1e-12, (
        f"standard_error = {se}, expected sqrt(5 / 3) / sqrt(4) = {math.sqrt(5 / 3) / 2}"
    )

    m = student.clt_means(0, 10, 5)
    assert isinstance(m, np.ndarray), f"clt_means returned {type(m).__name__}, expected a numpy array"
    assert m.shape == (5,), f"clt_means(0, 10, 5) has shape {m.shape}, expected (trials,) = (5,)"
    assert (m > 0).all(), "averages of exponential draws are positive"
