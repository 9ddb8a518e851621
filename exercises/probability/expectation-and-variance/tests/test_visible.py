"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example(student):
    x = np.array([1.0, 2.0, 3.0, 4.0])  # squared deviations from 2.5 sum to 5
    got = student.sample_variance(x)
    assert isinstance(got, (float, np.floating)), f"sample_variance returned {type(got).__name__}, expected a float"
    assert abs(got - 5 / 3) < 1e-12, f"sample_variance(x) = {got}, expected 5 / 3 (divide by n - 1 = 3)"
    got = student.sample_variance(x, ddof=0)
    assert abs(got - 1.25) < 1e-12, f"sample_variance(x, ddof=0) = {got}, expected 5 / 4"

    # X and Y in {0, 1}; X + Y is 0 w.p. 0.4, 1 w.p. 0.2, 2 w.p. 0.4.
    P = np.array([[0.4, 0.1], [0.1, 0.4]])
    m = student.table_moments(P, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert isinstance(m, dict), f"table_moments returned {type(m).__name__}, expected a dict"
    expected = {"mean_x": 0.5, "mean_y": 0.5, "var_x": 0.25, "var_y": 0.25, "cov": 0.15, "var_sum": 0.8}
    assert set(m) == set(expected), f"keys {sorted(m)}, expected {sorted(expected)}"
    for key, value in expected.items():
        assert abs(m[key] - value) < 1e-12, f"{key} = {m[key]}, expected {value}"
