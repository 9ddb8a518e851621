import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else. np.linalg.LinAlgError subclasses ValueError, so it is accepted too.
VALUE_ERRORS = (ValueError.__name__, np.linalg.LinAlgError.__name__)


def random_basis(rng, n):
    # Well conditioned and far from symmetric, so rows and columns give different answers.
    while True:
        B = rng.normal(size=(n, n)) + np.triu(rng.uniform(1.0, 2.0, size=(n, n)))
        if np.linalg.cond(B) < 50:
            return B


def ref_to_basis(v, B):
    return np.linalg.solve(B, v) if v.ndim == 1 else np.linalg.solve(B, v.T).T


def ref_from_basis(c, B):
    return B @ c if c.ndim == 1 else c @ B.T


def mismatch(got, expected):
    """None when got is an array matching expected, else what is wrong."""
    try:
        if not isinstance(got, np.ndarray):
            raise AssertionError(f"returned {type(got).__name__}, expected a numpy array")
        if got.shape != expected.shape:
            raise AssertionError(f"shape {got.shape}, expected {expected.shape} (the same shape as the input)")
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    except AssertionError as exc:
        return str(exc)
    return None


def raised(fn):
    """(exception type name, message) of what the call raised, or (None, None)."""
    try:
        fn()
    except Exception as exc:
        return getattr(exc, "etype", type(exc).__name__), str(exc)
    return None, None


@pytest.mark.points(2)
def test_basis_vectors_are_columns(student):
    rng = np.random.default_rng(1)
    B = random_basis(rng, 4)
    v = rng.normal(size=4)
    got = student.to_basis(v, B)
    rows_answer = np.linalg.solve(B.T, v)
    assert not (isinstance(got, np.ndarray) and got.shape == (4,) and np.allclose(got, rows_answer)), (
        "you used the rows of B as the basis vectors; the basis vectors are its columns (B @ c = v)"
    )
    err = mismatch(got, ref_to_basis(v, B))
    assert err is None, f"to_basis(v, B) for a 4x4 basis: {err}"


@pytest.mark.points(2)
def test_batch_has_one_vector_per_row(student):
    rng = np.random.default_rng(2)
    B = random_basis(rng, 3)
    V = rng.normal(size=(5, 3))
    err = mismatch(student.to_basis(V, B), ref_to_basis(V, B))
    assert err is None, f"to_basis on a (5, 3) batch in a 3x3 basis: {err}"
    # k == n: solving with the batch as columns fits the shapes but mixes up the vectors.
    B4 = random_basis(rng, 4)
    V4 = rng.normal(size=(4, 4))
    got = student.to_basis(V4, B4)
    assert not (isinstance(got, np.ndarray) and got.shape == (4, 4) and np.allclose(got, np.linalg.solve(B4, V4))), (
        "on a square (4, 4) batch you solved with the vectors as columns; each row of the batch is one vector"
    )
    err = mismatch(got, ref_to_basis(V4, B4))
    assert err is None, f"to_basis on a (4, 4) batch in a 4x4 basis: {err}"


@pytest.mark.points(2)
def test_from_basis_single_and_batch(student):
    rng = np.random.default_rng(3)
    B = random_basis(rng, 4)
    c = rng.normal(size=4)
    got = student.from_basis(c, B)
    assert not (isinstance(got, np.ndarray) and got.shape == (4,) and np.allclose(got, B.T @ c)), (
        "from_basis combined the rows of B; the vector is the sum of c[i] * (column i of B)"
    )
    err = mismatch(got, ref_from_basis(c, B))
    assert err is None, f"from_basis(c, B) for a 4x4 basis: {err}"
    C = rng.normal(size=(6, 4))
    err = mismatch(student.from_basis(C, B), ref_from_basis(C, B))
    assert err is None, f"from_basis on a (6, 4) batch of coordinates: {err}"
    C4 = rng.normal(size=(4, 4))
    err = mismatch(student.from_basis(C4, B), ref_from_basis(C4, B))
    assert err is None, f"from_basis on a square (4, 4) batch (one vector of coordinates per row): {err}"


@pytest.mark.points(1)
def test_round_trip_odd_size_and_batch_of_one(student):
    rng = np.random.default_rng(4)
    B = random_basis(rng, 7)
    V = rng.normal(size=(1, 7))
    coords = student.to_basis(V, B)
    err = mismatch(coords, ref_to_basis(V, B))
    assert err is None, f"to_basis on a batch of one vector, shape (1, 7), must keep that shape: {err}"
    err = mismatch(student.from_basis(coords, B), V)
    assert err is None, f"from_basis(to_basis(v, B), B) should give v back for a batch of one, shape (1, 7): {err}"


@pytest.mark.points(2)
def test_not_a_basis_raises_value_error(student):
    a = np.array([0.1, 0.7, 0.3])
    b = np.array([0.2, 0.3, 0.9])
    # The third column is 0.3 a + 0.7 b. Rounding leaves a tiny nonzero pivot, so np.linalg.solve
    # does not raise here: the rank has to be checked.
    dependent = np.column_stack([a, b, 0.3 * a + 0.7 * b])
    v = np.array([1.0, 2.0, 3.0])
    etype, msg = raised(lambda: student.to_basis(v, dependent))
    assert etype in VALUE_ERRORS, (
        "to_basis with linearly dependent columns (the third is a combination of the first two) must raise "
        f"ValueError; got {etype or 'no exception'} {msg or ''}. np.linalg.solve does not always notice: check the rank"
    )
    etype, msg = raised(lambda: student.to_basis(v, np.zeros((3, 3))))
    assert etype in VALUE_ERRORS, (
        f"to_basis with an all-zero B must raise ValueError; got {etype or 'no exception'} {msg or ''}"
    )
    etype, msg = raised(lambda: student.to_basis(v, np.ones((3, 2))))
    assert etype in VALUE_ERRORS, (
        f"to_basis with a non-square (3, 2) B must raise ValueError; got {etype or 'no exception'} {msg or ''}"
    )
    etype, msg = raised(lambda: student.from_basis(v, dependent))
    assert etype in VALUE_ERRORS, (
        f"from_basis with linearly dependent columns must raise ValueError; got {etype or 'no exception'} {msg or ''}"
    )
