import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.


def mismatch(got, expected):
    """None when got is an array matching expected, else what is wrong."""
    try:
        if not isinstance(got, np.ndarray):
            raise AssertionError(f"returned {type(got).__name__}, expected a numpy array")
        if got.shape != expected.shape:
            raise AssertionError(f"shape {got.shape}, expected {expected.shape}")
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    except AssertionError as exc:
        return str(exc)
    return None


def is_transpose(got, expected):
    return isinstance(got, np.ndarray) and got.shape == expected.T.shape and np.allclose(got, expected.T)


def raised(fn):
    """(exception type name, message) of what the call raised, or (None, None)."""
    try:
        fn()
    except Exception as exc:
        return getattr(exc, "etype", type(exc).__name__), str(exc)
    return None, None


def random_matrix(seed, m, n):
    return np.random.default_rng(seed).normal(size=(m, n))


@pytest.mark.points(2)
def test_columns_are_images_of_basis_vectors(student):
    running_total = np.tril(np.ones((5, 5)))
    got = student.matrix_of(student.np.cumsum, 5)
    assert not is_transpose(got, running_total), (
        "matrix_of(np.cumsum, 5) came out transposed: f(e_j) must be column j of the matrix, not row j"
    )
    err = mismatch(got, running_total)
    assert err is None, f"matrix_of(np.cumsum, 5) should be lower triangular ones: {err}"

    M = random_matrix(1, 4, 4)
    got = student.matrix_of(student.as_function(M), 4)
    assert not is_transpose(got, M), "matrix_of(as_function(M), 4) gave M transposed: f(e_j) is column j"
    err = mismatch(got, M)
    assert err is None, f"matrix_of(as_function(M), 4) should give M back for a random 4x4 M: {err}"


@pytest.mark.points(2)
def test_map_between_different_sizes(student):
    n = 6
    diff = np.eye(n)[1:] - np.eye(n)[:-1]  # (n - 1, n): row i is e_{i+1} - e_i
    got = student.matrix_of(student.np.diff, n)
    err = mismatch(got, diff)
    assert err is None, f"matrix_of(np.diff, 6) maps R^6 to R^5, so its matrix has shape (5, 6): {err}"

    M = random_matrix(2, 3, 5)
    err = mismatch(student.matrix_of(student.as_function(M), 5), M)
    assert err is None, f"matrix_of(as_function(M), 5) for M of shape (3, 5) (a map R^5 -> R^3): {err}"


@pytest.mark.points(1)
def test_map_to_a_single_number(student):
    got = student.matrix_of(student.np.sum, 4)
    err = mismatch(got, np.ones((1, 4)))
    assert err is None, (
        "matrix_of(np.sum, 4): np.sum returns a plain number, a map R^4 -> R^1, whose matrix is one row "
        f"of ones, shape (1, 4): {err}"
    )


@pytest.mark.points(1)
def test_one_input_dimension(student):
    M = random_matrix(3, 3, 1)
    err = mismatch(student.matrix_of(student.as_function(M), 1), M)
    assert err is None, f"matrix_of(as_function(M), 1) for M of shape (3, 1) (a map R^1 -> R^3): {err}"


@pytest.mark.points(2)
def test_chain_order_with_square_matrices(student):
    A, B, C = random_matrix(4, 3, 3), random_matrix(5, 3, 3), random_matrix(6, 3, 3)
    got = student.chain_maps([A, B, C])
    assert not (isinstance(got, np.ndarray) and got.shape == (3, 3) and np.allclose(got, A @ B @ C)), (
        "chain_maps([A, B, C]) multiplied in list order, A @ B @ C; A is applied first, so it is the "
        "rightmost factor: C @ B @ A"
    )
    err = mismatch(got, C @ B @ A)
    assert err is None, f"chain_maps([A, B, C]) for three random 3x3 matrices should be C @ B @ A: {err}"

    single = student.chain_maps([A])
    err = mismatch(single, A)
    assert err is None, f"chain_maps([A]) with a single matrix should be A itself: {err}"


@pytest.mark.points(2)
def test_chain_sizes_and_errors(student):
    # R^2 -> R^3 -> R^4 -> R^1
    A, B, C = random_matrix(7, 3, 2), random_matrix(8, 4, 3), random_matrix(9, 1, 4)
    err = mismatch(student.chain_maps([A, B, C]), C @ B @ A)
    assert err is None, f"chain_maps for maps R^2 -> R^3 -> R^4 -> R^1 should have shape (1, 2): {err}"

    # Running totals, then differences: keeps all but the first entry.
    totals = np.tril(np.ones((5, 5)))
    diffs = np.eye(5)[1:] - np.eye(5)[:-1]
    err = mismatch(student.chain_maps([totals, diffs]), diffs @ totals)
    assert err is None, f"chain_maps([cumsum matrix, diff matrix]) for size 5: {err}"

    # A maps R^2 -> R^3 but D takes R^2: a real mismatch, even though A @ D would fit.
    D = random_matrix(10, 2, 2)
    etype, msg = raised(lambda: student.chain_maps([A, D]))
    assert etype == ValueError.__name__, (
        "chain_maps([A, D]) with A of shape (3, 2) (R^2 -> R^3) then D of shape (2, 2) (takes R^2) must raise "
        f"ValueError; got {etype or 'no exception'} {msg or ''}"
    )
    etype, msg = raised(lambda: student.chain_maps([]))
    assert etype == ValueError.__name__, (
        f"chain_maps([]) must raise ValueError; got {etype or 'no exception'} {msg or ''}"
    )
