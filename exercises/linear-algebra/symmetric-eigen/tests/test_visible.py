"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible

# Eigenvalues 3 (eigenvector (2, 1) / sqrt 5) and -2 (eigenvector (-1, 2) / sqrt 5 after the sign fix).
A = np.array([[2.0, 2.0], [2.0, -1.0]])


@pytest.mark.points(2)
def test_example(student):
    out = student.symmetric_eig(A)
    assert isinstance(out, tuple) and len(out) == 2, "symmetric_eig must return a tuple (eigenvalues, V)"
    vals, V = out
    assert isinstance(vals, np.ndarray) and isinstance(V, np.ndarray), "eigenvalues and V must be numpy arrays"
    np.testing.assert_allclose(vals, [3.0, -2.0], atol=1e-12)
    np.testing.assert_allclose(V * np.sqrt(5), [[2.0, -1.0], [1.0, 2.0]], atol=1e-12)

    out = student.power_iteration(A, np.array([1.0, 0.0]), 100)
    assert isinstance(out, tuple) and len(out) == 2, "power_iteration must return a tuple (lam, v)"
    lam, v = out
    assert isinstance(lam, (float, np.floating)), f"lam is a {type(lam).__name__}, expected a float"
    assert abs(lam - 3.0) < 1e-9, f"lam = {lam}, expected the dominant eigenvalue 3"
    assert isinstance(v, np.ndarray), f"v is a {type(v).__name__}, expected a numpy array"
    np.testing.assert_allclose(v * np.sqrt(5), [2.0, 1.0], atol=1e-9)
