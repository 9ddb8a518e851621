import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.


def ref_low_rank(A, k):
    U, S, Vt = np.linalg.svd(A, full_matrices=False)
    return (U[:, :k] * S[:k]) @ Vt[:k]


def ref_explained(A, k):
    S2 = np.linalg.svd(A, compute_uv=False) ** 2
    return float(S2[:k].sum() / S2.sum())


def mismatch(got, expected):
    """None when got is an array matching expected, else what is wrong."""
    try:
        if not isinstance(got, np.ndarray):
            raise AssertionError(f"returned {type(got).__name__}, expected a numpy array")
        if got.shape != expected.shape:
            raise AssertionError(f"shape {got.shape}, expected {expected.shape} (the shape of A)")
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    except AssertionError as exc:
        return str(exc)
    return None


def as_number(got):
    """got as a Python float (a numpy scalar or a 0-d array is fine too), or None."""
    if isinstance(got, (float, int, np.floating, np.integer)) and not isinstance(got, bool):
        return float(got)
    if isinstance(got, np.ndarray) and got.shape == ():
        return float(got)
    return None


def raised(fn):
    """(exception type name, message) of what the call raised, or (None, None)."""
    try:
        fn()
    except Exception as exc:
        return getattr(exc, "etype", type(exc).__name__), str(exc)
    return None, None


def matrix(seed, m, n):
    # Non-centered entries with a spread of singular values.
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, n)) @ np.diag(np.linspace(3.0, 0.5, n)) + 0.5


@pytest.mark.points(2)
def test_eckart_young_on_a_tall_matrix(student):
    A = matrix(1, 8, 5)
    S = np.linalg.svd(A, compute_uv=False)
    for k in range(1, 5):
        got = student.low_rank(A, k)
        err = mismatch(got, ref_low_rank(A, k))
        assert err is None, f"low_rank(A, {k}) for a (8, 5) A: {err}"
        fro = np.linalg.norm(A - got)
        assert abs(fro - np.sqrt((S[k:] ** 2).sum())) < 1e-8, (
            f"||A - low_rank(A, {k})||_F = {fro:.6f}, but Eckart-Young says sqrt(sum of the discarded squared "
            f"singular values) = {np.sqrt((S[k:] ** 2).sum()):.6f}"
        )
        two = np.linalg.norm(A - got, 2)
        assert abs(two - S[k]) < 1e-8, (
            f"the spectral norm of A - low_rank(A, {k}) is {two:.6f}, expected S[{k}] = {S[k]:.6f}"
        )
        rank = np.linalg.matrix_rank(got, tol=1e-8)
        assert rank == k, f"low_rank(A, {k}) has rank {rank}, expected {k}"


@pytest.mark.points(2)
def test_wide_matrix(student):
    A = matrix(2, 4, 9)
    for k in (1, 3):
        err = mismatch(student.low_rank(A, k), ref_low_rank(A, k))
        assert err is None, (
            f"low_rank(A, {k}) for a wide (4, 9) A: {err}. The directions are the first k columns of U and "
            "the first k rows of Vt"
        )


@pytest.mark.points(1)
def test_k_zero_and_full_rank(student):
    A = matrix(3, 5, 3)
    err = mismatch(student.low_rank(A, 0), np.zeros((5, 3)))
    assert err is None, f"low_rank(A, 0) is the zero matrix of A's shape: {err}"
    err = mismatch(student.low_rank(A, 3), A)
    assert err is None, f"low_rank(A, 3) for a (5, 3) A keeps every singular value, so it is A itself: {err}"
    B = matrix(4, 1, 6)
    err = mismatch(student.low_rank(B, 1), B)
    assert err is None, f"low_rank(A, 1) for a single-row A of shape (1, 6) is A itself: {err}"


@pytest.mark.points(1)
def test_rank_deficient_matrix(student):
    rng = np.random.default_rng(5)
    A = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 5))  # rank 2
    err = mismatch(student.low_rank(A, 3), A)
    assert err is None, f"A has rank 2, so low_rank(A, 3) is A itself: {err}"
    frac = as_number(student.explained_variance(A, 2))
    assert frac is not None, "explained_variance must return a float"
    assert abs(frac - 1.0) < 1e-10, f"A has rank 2, so explained_variance(A, 2) should be 1.0, got {frac}"


@pytest.mark.points(2)
def test_explained_variance_uses_squared_singular_values(student):
    A = matrix(6, 7, 4)
    S = np.linalg.svd(A, compute_uv=False)
    for k in range(0, 5):
        got = student.explained_variance(A, k)
        frac = as_number(got)
        assert frac is not None, f"explained_variance(A, {k}) returned {type(got).__name__}, expected a float"
        expected = ref_explained(A, k)
        if 0 < k < 4:
            assert abs(frac - S[:k].sum() / S.sum()) > 1e-6, (
                f"explained_variance(A, {k}) = {frac:.6f} is a ratio of singular values; ||A||_F**2 is the sum "
                "of the squared singular values, so use S**2"
            )
        assert abs(frac - expected) < 1e-10, f"explained_variance(A, {k}) = {frac:.10f}, expected {expected:.10f}"
    full = np.linalg.norm(student.low_rank(A, 2)) ** 2 / np.linalg.norm(A) ** 2
    assert abs(as_number(student.explained_variance(A, 2)) - full) < 1e-10, (
        "explained_variance(A, 2) should equal ||low_rank(A, 2)||_F**2 / ||A||_F**2"
    )


@pytest.mark.points(1)
def test_invalid_k_raises_value_error(student):
    A = matrix(7, 3, 4)
    for k in (-1, 4):
        etype, msg = raised(lambda k=k: student.low_rank(A, k))
        assert etype == ValueError.__name__, (
            f"low_rank(A, {k}) for a (3, 4) A must raise ValueError (k must be in 0..3); got "
            f"{etype or 'no exception'} {msg or ''}"
        )
        etype, msg = raised(lambda k=k: student.explained_variance(A, k))
        assert etype == ValueError.__name__, (
            f"explained_variance(A, {k}) for a (3, 4) A must raise ValueError (k must be in 0..3); got "
            f"{etype or 'no exception'} {msg or ''}"
        )
