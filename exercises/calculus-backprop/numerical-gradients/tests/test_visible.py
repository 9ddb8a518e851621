"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_numerical_grad_of_prod(student):
    # d/dx_i of x0 * x1 * x2 is the product of the other two entries.
    got = student.numerical_grad(student.np.prod, np.array([2.0, 3.0, 4.0]))
    assert isinstance(got, np.ndarray), f"numerical_grad returned {type(got).__name__}, expected a numpy array"
    np.testing.assert_allclose(got, [12.0, 8.0, 6.0], rtol=1e-6)


@pytest.mark.points(1)
def test_small_analytic_examples(student):
    got = student.grad_quadratic(np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(got, [4.0, 4.0], rtol=1e-9, err_msg="grad_quadratic")
    got = student.grad_logsumexp(np.array([0.0, 0.0]))
    np.testing.assert_allclose(got, [0.5, 0.5], rtol=1e-9, err_msg="grad_logsumexp")
    # W @ x - y = [1, 0], so only the first row of the gradient is non-zero: 2 * [1, 2].
    got = student.grad_squared_error(np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([1.0, 2.0]), np.zeros(2))
    np.testing.assert_allclose(got, [[2.0, 4.0], [0.0, 0.0]], rtol=1e-9, err_msg="grad_squared_error")
