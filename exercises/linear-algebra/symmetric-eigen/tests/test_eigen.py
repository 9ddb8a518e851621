import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.


def with_spectrum(seed, eigenvalues):
    """A symmetric matrix with the given eigenvalues and random orthonormal eigenvectors (as columns)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return Q @ np.diag(eigenvalues) @ Q.T, Q


def ref_power(A, v0, iters):
    v = v0 / np.linalg.norm(v0)
    for _ in range(iters):
        w = A @ v
        v = w / np.linalg.norm(w)
    return float(v @ A @ v), v


def ref_eig(A):
    vals, V = np.linalg.eigh(A)
    order = np.argsort(vals)[::-1]
    vals, V = vals[order], V[:, order]
    signs = np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(V.shape[1])])
    return vals, V * signs


def unpack_power(out):
    """(lam, v) from the learner's result, raising a clear AssertionError when malformed."""
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError(f"power_iteration must return a tuple (lam, v), got {type(out).__name__}")
    lam, v = out
    if isinstance(lam, np.ndarray) and lam.shape == ():
        lam = float(lam)
    if not isinstance(lam, (float, int, np.floating)) or isinstance(lam, bool):
        raise AssertionError(f"lam is a {type(lam).__name__}, expected a float")
    if not isinstance(v, np.ndarray):
        raise AssertionError(f"v is a {type(v).__name__}, expected a numpy array")
    return float(lam), v


def unpack_eig(out, n):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise AssertionError(f"symmetric_eig must return a tuple (eigenvalues, V), got {type(out).__name__}")
    vals, V = out
    if not (isinstance(vals, np.ndarray) and isinstance(V, np.ndarray)):
        raise AssertionError("symmetric_eig must return two numpy arrays")
    if vals.shape != (n,) or V.shape != (n, n):
        raise AssertionError(f"shapes {vals.shape} and {V.shape}, expected ({n},) and ({n}, {n})")
    return vals, V


def mismatch(got, expected, atol):
    """None when got matches expected, else the numpy report of the difference."""
    try:
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    except AssertionError as exc:
        return str(exc)
    return None


def same_direction(v, u):
    return abs(abs(float(v @ u)) - 1.0) < 1e-9


@pytest.mark.points(2)
def test_power_iteration_finds_dominant_eigenpair(student):
    A, Q = with_spectrum(1, [6.0, 3.0, 2.0, 1.0, -1.0, 0.5])
    v0 = np.random.default_rng(11).normal(size=6)
    lam, v = unpack_power(student.power_iteration(A, v0, 100))
    assert v.shape == (6,), f"v has shape {v.shape}, expected (6,)"
    assert abs(np.linalg.norm(v) - 1.0) < 1e-9, f"v has norm {np.linalg.norm(v):.6f}, expected a unit vector"
    assert same_direction(v, Q[:, 0]), "after 100 steps v should be the dominant eigenvector (up to sign)"
    assert abs(lam - 6.0) < 1e-9, f"lam = {lam:.9f}, expected the dominant eigenvalue 6"


@pytest.mark.points(2)
def test_power_iteration_negative_dominant_eigenvalue(student):
    A, Q = with_spectrum(2, [-5.0, 3.0, 1.0, 0.5])
    v0 = np.random.default_rng(12).normal(size=4)
    lam, v = unpack_power(student.power_iteration(A, v0, 100))
    assert not abs(lam - 5.0) < 1e-6, (
        "lam = 5.0 but the dominant eigenvalue is -5: ||A @ v|| loses the sign, use the Rayleigh quotient v @ A @ v"
    )
    assert abs(lam + 5.0) < 1e-9, f"lam = {lam:.9f}, expected the dominant eigenvalue -5 (largest absolute value)"
    assert same_direction(v, Q[:, 0]), "after 100 steps v should be the eigenvector of -5 (up to sign)"


@pytest.mark.points(1)
def test_power_iteration_rescales_every_step(student):
    A, Q = with_spectrum(3, [2000.0, 500.0, 100.0, -50.0])
    v0 = np.random.default_rng(13).normal(size=4)
    lam, v = unpack_power(student.power_iteration(A, v0, 200))
    assert np.isfinite(v).all() and np.isfinite(lam), (
        "power_iteration returned inf or nan for eigenvalues near 2000 and 200 steps: rescale v at every "
        "step, not only at the end (2000**200 overflows)"
    )
    assert abs(lam - 2000.0) < 1e-6, f"lam = {lam}, expected 2000"
    assert same_direction(v, Q[:, 0]), "v should be the dominant eigenvector (up to sign)"


@pytest.mark.points(1)
def test_power_iteration_counts_steps(student):
    A, _ = with_spectrum(4, [-4.0, 2.0, 1.0])
    v0 = np.array([1.0, 2.0, -2.0])
    for iters in (0, 1, 2, 3):
        lam, v = unpack_power(student.power_iteration(A, v0, iters))
        exp_lam, exp_v = ref_power(A, v0, iters)
        assert v.shape == (3,), f"v has shape {v.shape}, expected (3,)"
        assert np.allclose(v, exp_v, atol=1e-12) and abs(lam - exp_lam) < 1e-12, (
            f"power_iteration(A, v0, {iters}) should apply A exactly {iters} time(s) to v0 / ||v0|| (rescaling "
            f"each time): got v = {np.round(v, 6)}, lam = {lam:.6f}; expected v = {np.round(exp_v, 6)}, "
            f"lam = {exp_lam:.6f}"
        )


@pytest.mark.points(2)
def test_eigenvalues_descending_with_matching_columns(student):
    rng = np.random.default_rng(5)
    M = rng.normal(size=(5, 5))
    A = (M + M.T) / 2
    vals, V = unpack_eig(student.symmetric_eig(A), 5)
    exp_vals, exp_V = ref_eig(A)
    assert not np.allclose(vals, exp_vals[::-1]), (
        "the eigenvalues are in ascending order (eigh's order); sort them descending"
    )
    err = mismatch(vals, exp_vals, 1e-10)
    assert err is None, f"eigenvalues of a random symmetric 5x5 matrix, sorted descending: {err}"
    residual = np.abs(A @ V - V * vals).max()
    assert residual < 1e-9, (
        f"A @ V[:, i] != eigenvalues[i] * V[:, i] (off by {residual:.2e}): the eigenvectors are the columns of "
        "V, reordered together with the eigenvalues"
    )
    err = mismatch(V, exp_V, 1e-9)
    assert err is None, (
        f"the eigenvector columns are right up to sign but do not follow the convention (largest-magnitude entry "
        f"positive): {err}"
    )


@pytest.mark.points(1)
def test_sign_convention(student):
    A, _ = with_spectrum(6, [4.0, -3.0, 2.5, 1.0, -0.5, 0.25, 3.5])
    vals, V = unpack_eig(student.symmetric_eig(A), 7)
    exp_vals, exp_V = ref_eig(A)
    err = mismatch(vals, exp_vals, 1e-10)
    assert err is None, f"eigenvalues of a 7x7 symmetric matrix, sorted descending: {err}"
    big = V[np.argmax(np.abs(V), axis=0), np.arange(7)]
    assert (big > 0).all(), (
        f"in columns {np.flatnonzero(big <= 0).tolist()} the entry of largest absolute value is negative: flip "
        "those columns' signs"
    )
    err = mismatch(V, exp_V, 1e-9)
    assert err is None, f"eigenvectors of a 7x7 symmetric matrix (columns, sign convention applied): {err}"
    vals1, V1 = unpack_eig(student.symmetric_eig(np.array([[-3.0]])), 1)
    assert np.allclose(vals1, [-3.0]) and np.allclose(V1, [[1.0]]), (
        f"symmetric_eig([[-3]]) should be ([-3], [[1]]), got ({vals1}, {V1})"
    )


@pytest.mark.points(1)
def test_non_symmetric_raises_value_error(student):
    try:
        student.symmetric_eig(np.array([[1.0, 2.0], [0.0, 1.0]]))
    except Exception as exc:
        etype = getattr(exc, "etype", type(exc).__name__)
        assert etype == ValueError.__name__, (
            f"symmetric_eig of a non-symmetric matrix must raise ValueError, got {etype}: {exc}"
        )
    else:
        raise AssertionError(
            "symmetric_eig([[1, 2], [0, 1]]) must raise ValueError: eigh would silently use one triangle only"
        )
    # Symmetric up to rounding is fine.
    rng = np.random.default_rng(7)
    M = rng.normal(size=(4, 4))
    A = (M + M.T) / 2 + 1e-15 * rng.normal(size=(4, 4))
    vals, _ = unpack_eig(student.symmetric_eig(A), 4)
    err = mismatch(vals, ref_eig((A + A.T) / 2)[0], 1e-9)
    assert err is None, (
        f"eigenvalues of a matrix that is symmetric up to 1e-15 rounding (such a matrix must be accepted: "
        f"np.allclose(A, A.T)): {err}"
    )
