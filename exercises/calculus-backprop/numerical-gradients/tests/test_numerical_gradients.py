"""Hidden tests: learners see their names and messages, never this code."""

import numpy as np
import pytest


def as_array(got, name, shape):
    assert isinstance(got, np.ndarray), f"{name} returned {type(got).__name__}, expected a numpy array"
    assert got.shape == shape, f"{name} returned shape {got.shape}, expected {shape}"
    return got


def mismatch(got, expected, rtol, atol):
    """None when close, else numpy's report of the differences (for the assert message)."""
    try:
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    except AssertionError as exc:
        return str(exc).strip()
    return None


def softmax(x):
    z = np.exp(x - x.max())
    return z / z.sum()


@pytest.mark.points(2)
def test_numerical_grad_is_central(student):
    # log-sum-exp has curvature, so a one-sided difference is visibly less accurate.
    rng = np.random.default_rng(1)
    x = 3.0 * rng.normal(size=6)
    eps = 1e-3
    got = as_array(student.numerical_grad(student.np.logaddexp.reduce, x, eps), "numerical_grad", x.shape)
    exact = softmax(x)
    err = mismatch(got, exact, 0, 1e-6)
    if err is not None:
        f0 = np.logaddexp.reduce(x)
        forward = np.array([(np.logaddexp.reduce(x + eps * e) - f0) / eps for e in np.eye(len(x))])
        assert not np.allclose(got, forward, rtol=0, atol=1e-6), (
            "your estimate matches a one-sided difference (f(x + eps e_i) - f(x)) / eps; "
            "use the central difference (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)"
        )
        assert not np.allclose(got, 2 * exact, rtol=0, atol=1e-5), "your estimate is twice too large: divide by 2 * eps"
        assert not np.allclose(got, exact / 2, rtol=0, atol=1e-5), "your estimate is half the gradient: divide by 2 * eps"
    assert err is None, f"numerical gradient of log(sum(exp(x))) with eps {eps:g} is not accurate to 1e-6:\n{err}"


@pytest.mark.points(2)
def test_numerical_grad_puts_entries_back(student):
    # The gradient of a product depends on every other entry, so a nudge left behind shows up.
    rng = np.random.default_rng(2)
    x = rng.uniform(1.0, 2.0, size=(3, 4))
    got = as_array(student.numerical_grad(student.np.prod, x, 1e-3), "numerical_grad", x.shape)
    err = mismatch(got, np.prod(x) / x, 1e-7, 0)
    assert err is None, f"gradient of np.prod at a (3, 4) array is off: is every entry put back after it is nudged?\n{err}"


@pytest.mark.points(1)
def test_numerical_grad_transposed_input(student):
    # A transposed (Fortran-ordered) array: reshape(-1) or ravel() of it is a copy, not a view.
    rng = np.random.default_rng(3)
    x = rng.uniform(1.0, 2.0, size=(4, 3)).T
    got = as_array(student.numerical_grad(student.np.prod, x), "numerical_grad", x.shape)
    assert np.abs(got).max() > 0, (
        "the gradient is all zeros for a transposed input: nudging a flattened copy does not change x; "
        "index x itself (np.ndindex helps) or make a C-ordered copy first"
    )
    err = mismatch(got, np.prod(x) / x, 1e-6, 0)
    assert err is None, f"gradient of np.prod at a transposed (3, 4) array:\n{err}"


@pytest.mark.points(1)
def test_numerical_grad_integer_input(student):
    got = as_array(student.numerical_grad(student.np.prod, np.array([1, 2, 3])), "numerical_grad", (3,))
    assert np.issubdtype(got.dtype, np.floating), f"dtype {got.dtype}: the gradient at an integer input is still a float array"
    err = mismatch(got, [6.0, 3.0, 2.0], 1e-6, 0)
    assert err is None, (
        f"gradient of np.prod at the integer array [1, 2, 3]: an integer array cannot hold x + eps, use a float copy\n{err}"
    )


@pytest.mark.points(2)
def test_grad_quadratic_non_symmetric(student):
    rng = np.random.default_rng(4)
    for n in (1, 5):
        A = rng.normal(size=(n, n))
        x = rng.normal(size=n)
        got = as_array(student.grad_quadratic(A, x), "grad_quadratic", (n,))
        err = mismatch(got, (A + A.T) @ x, 1e-9, 1e-12)
        if n > 1 and err is not None:
            assert not np.allclose(got, 2 * A @ x), "you returned 2 A x, which is only right when A is symmetric"
            assert not np.allclose(got, 2 * A.T @ x), "you returned 2 A^T x, which is only right when A is symmetric"
        assert err is None, f"gradient of x @ A @ x for a random {n}x{n} A:\n{err}"


@pytest.mark.points(2)
def test_grad_logsumexp_large_and_small_inputs(student):
    rng = np.random.default_rng(5)
    for x in (rng.normal(size=7), np.array([1000.0, 1001.0, 999.0, 1002.0]), np.array([-1000.0, -1001.0]), np.array([3.0])):
        got = as_array(student.grad_logsumexp(x), "grad_logsumexp", x.shape)
        shown = np.array2string(x, precision=3)
        assert np.isfinite(got).all(), f"the gradient at x = {shown} is not finite: subtract the maximum before exp"
        err = mismatch(got, softmax(x), 1e-9, 1e-15)
        assert err is None, f"gradient of log(sum(exp(x))) at x = {shown}:\n{err}"


@pytest.mark.points(2)
def test_grad_squared_error_shape_and_values(student):
    rng = np.random.default_rng(6)
    W = rng.normal(size=(3, 5))
    x = rng.normal(size=5)
    y = rng.normal(size=3)
    got = student.grad_squared_error(W, x, y)
    assert isinstance(got, np.ndarray), f"grad_squared_error returned {type(got).__name__}, expected a numpy array"
    assert got.shape == W.shape, f"shape {got.shape}: the gradient with respect to W has W's shape (m, n) = {W.shape}"
    expected = 2.0 * np.outer(W @ x - y, x)
    assert not np.allclose(got, expected / 2), "the gradient is half what it should be: d/dr r^2 = 2 r"
    err = mismatch(got, expected, 1e-9, 1e-12)
    assert err is None, f"gradient of sum((W @ x - y) ** 2) with respect to a (3, 5) W:\n{err}"
