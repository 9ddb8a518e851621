"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_loss_at_zero_weights_is_log_2(student):
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
    got = student.logistic_loss(X, np.zeros(2), 0.0, np.array([1.0, 0.0, 1.0]))
    assert math.isclose(float(got), math.log(2), rel_tol=1e-9), f"loss {got}, expected log 2 (every p is 0.5)"


@pytest.mark.points(1)
def test_gradient_two_examples(student):
    # w = 0 gives p = 0.5, so dL/dz = (p - y) / n = [-0.25, 0.25].
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    dw, db = student.d_loss_d_w(X, np.zeros(2), 0.0, np.array([1.0, 0.0]))
    assert isinstance(dw, np.ndarray), f"dw is a {type(dw).__name__}, expected a numpy array"
    np.testing.assert_allclose(dw, [-0.25, 0.25], rtol=1e-9)
    assert math.isclose(float(db), 0.0, abs_tol=1e-12), f"db = {db}, expected 0"
