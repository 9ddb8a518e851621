import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.


def ref_orthonormalize(V, tol=1e-10):
    V = np.asarray(V, dtype=float)
    kept = []
    for j in range(V.shape[1]):
        v = V[:, j]
        r = v.copy()
        for _ in range(2):
            for q in kept:
                r -= (q @ r) * q
        norm = np.linalg.norm(r)
        if norm > tol * np.linalg.norm(v):
            kept.append(r / norm)
    return np.stack(kept, axis=1) if kept else np.zeros((V.shape[0], 0))


def ref_project(x, U):
    return U @ (U.T @ x) if x.ndim == 1 else x @ U @ U.T


def mismatch(got, expected, atol=1e-9):
    """None when got is an array matching expected, else what is wrong."""
    try:
        if not isinstance(got, np.ndarray):
            raise AssertionError(f"returned {type(got).__name__}, expected a numpy array")
        if got.shape != expected.shape:
            raise AssertionError(f"shape {got.shape}, expected {expected.shape}")
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=atol)
    except AssertionError as exc:
        return str(exc)
    return None


def orthonormality_error(Q):
    return float(np.abs(Q.T @ Q - np.eye(Q.shape[1])).max()) if Q.shape[1] else 0.0


@pytest.mark.points(2)
def test_gram_schmidt_on_random_columns(student):
    rng = np.random.default_rng(1)
    V = rng.normal(size=(5, 3))
    Q = student.orthonormalize(V)
    err = mismatch(Q, ref_orthonormalize(V))
    assert err is None, (
        "orthonormalize on a random (5, 3) V: column j of Q must be the normalized part of column j of V "
        f"orthogonal to the earlier columns (same order, same sign): {err}"
    )
    V7 = rng.normal(size=(7, 7))
    err = mismatch(student.orthonormalize(V7), ref_orthonormalize(V7))
    assert err is None, f"orthonormalize on a random square (7, 7) V: {err}"


@pytest.mark.points(2)
def test_dependent_and_zero_columns_are_dropped(student):
    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=(3, 6))
    # Column 2 is a combination of 0 and 1 up to rounding-sized noise; column 3 is zero.
    noisy = 2.0 * a - 0.5 * b + 1e-14 * rng.normal(size=6)
    V = np.column_stack([a, b, noisy, np.zeros(6), c])
    Q = student.orthonormalize(V)
    assert isinstance(Q, np.ndarray), f"orthonormalize returned {type(Q).__name__}, expected a numpy array"
    assert not np.isnan(Q).any(), "orthonormalize gave nan: a zero column must be dropped, not divided by its norm"
    assert Q.shape == (6, 3), (
        f"shape {Q.shape}, expected (6, 3): of the 5 columns one is a combination of the first two "
        "(up to 1e-14 noise) and one is zero, so both must be dropped"
    )
    err = mismatch(Q, ref_orthonormalize(V))
    assert err is None, f"orthonormalize with a dependent and a zero column: {err}"

    Z = student.orthonormalize(np.zeros((4, 2)))
    assert isinstance(Z, np.ndarray) and Z.shape == (4, 0), (
        f"orthonormalize of an all-zero (4, 2) V should be an empty basis of shape (4, 0), got "
        f"{Z.shape if isinstance(Z, np.ndarray) else type(Z).__name__}"
    )


@pytest.mark.points(2)
def test_stays_orthonormal_for_nearly_parallel_columns(student):
    eps = 1e-7
    # Three nearly parallel columns (1, eps, 0, 0), (1, 0, eps, 0), (1, 0, 0, eps): independent, so
    # all are kept, but classical Gram-Schmidt loses orthogonality on them.
    V = np.vstack([np.ones(3), eps * np.eye(3)])
    Q = student.orthonormalize(V)
    assert isinstance(Q, np.ndarray), f"orthonormalize returned {type(Q).__name__}, expected a numpy array"
    assert Q.shape == (4, 3), (
        f"shape {Q.shape}, expected (4, 3): the three columns are independent (their differences are of size 1e-7)"
    )
    worst = orthonormality_error(Q)
    assert worst < 1e-6, (
        f"Q.T @ Q is off the identity by {worst:.2e} for nearly parallel columns: subtract the projections one "
        "at a time from the running remainder (modified Gram-Schmidt), or orthogonalize twice"
    )
    np.testing.assert_allclose(Q, ref_orthonormalize(V), atol=1e-6)


@pytest.mark.points(1)
def test_tolerance_is_relative_to_the_column(student):
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 5))
    V = np.column_stack([a, b, a + b])
    for scale in (1e8, 1e-8):
        Q = student.orthonormalize(scale * V)
        assert isinstance(Q, np.ndarray), f"orthonormalize returned {type(Q).__name__}, expected a numpy array"
        assert Q.shape == (5, 2), (
            f"orthonormalize(V * {scale:g}) has shape {Q.shape}, expected (5, 2) as for V itself: compare the "
            "remainder with tol times the column's own norm, not with tol alone"
        )
        err = mismatch(Q, ref_orthonormalize(V), atol=1e-7)
        assert err is None, f"orthonormalize(V * {scale:g}) should equal orthonormalize(V): {err}"


@pytest.mark.points(2)
def test_project_single_and_batch(student):
    rng = np.random.default_rng(4)
    U = ref_orthonormalize(rng.normal(size=(6, 2)))
    x = rng.normal(size=6)
    got = student.project(x, U)
    assert not (isinstance(got, np.ndarray) and got.shape == (2,)), (
        "project returned the 2 coordinates U.T @ x; return the projected vector of R^6, U @ (U.T @ x)"
    )
    err = mismatch(got, ref_project(x, U))
    assert err is None, f"project(x, U) for x of shape (6,) onto a 2-dimensional subspace: {err}"
    X = rng.normal(size=(4, 6))
    err = mismatch(student.project(X, U), ref_project(X, U))
    assert err is None, f"project on a (4, 6) batch, one vector per row: {err}"
    X1 = rng.normal(size=(1, 6))
    err = mismatch(student.project(X1, U), ref_project(X1, U))
    assert err is None, f"project on a batch of one vector, shape (1, 6), must keep that shape: {err}"


@pytest.mark.points(1)
def test_projection_edge_cases(student):
    rng = np.random.default_rng(5)
    x = rng.normal(size=5)
    err = mismatch(student.project(x, np.zeros((5, 0))), np.zeros(5))
    assert err is None, f"projecting onto the zero subspace (U of shape (5, 0)) gives the zero vector: {err}"
    full = ref_orthonormalize(rng.normal(size=(5, 5)))
    err = mismatch(student.project(x, full), x)
    assert err is None, f"projecting onto all of R^5 (U of shape (5, 5)) gives x back: {err}"
    U = ref_orthonormalize(rng.normal(size=(5, 3)))
    p = student.project(x, U)
    err = mismatch(p, ref_project(x, U))
    assert err is None, f"project(x, U) for U of shape (5, 3): {err}"
    residual = U.T @ (x - p)
    assert np.abs(residual).max() < 1e-9, "x - project(x, U) must be orthogonal to every column of U"
