import numpy as np
import pytest


def expected(x, k):
    """Row by row with Python's sorted: largest first, then the smaller column."""
    idx = np.array([sorted(range(x.shape[1]), key=lambda j: (-x[i, j], j))[:k] for i in range(x.shape[0])], dtype=np.int64)
    idx = idx.reshape(x.shape[0], k)
    return x[np.arange(x.shape[0])[:, None], idx], idx


def mismatch(got, want):
    """numpy's description of how two arrays differ ('' if equal)."""
    try:
        np.testing.assert_array_equal(got, want)
    except AssertionError as exc:
        return str(exc)
    return ""


def check(student, x, k):
    # Messages are built inside raise/assert statements so the judge shows them to the learner in full.
    got = student.top_k_per_row(x, k)
    assert isinstance(got, tuple) and len(got) == 2, (
        f"top_k_per_row returned {type(got).__name__}, expected a tuple (values, indices)"
    )
    values, indices = got
    n = x.shape[0]
    assert isinstance(values, np.ndarray), f"values is a {type(values).__name__}, expected a numpy array"
    assert isinstance(indices, np.ndarray), f"indices is a {type(indices).__name__}, expected a numpy array"
    assert values.shape == (n, k), (
        f"values has shape {values.shape} for x of shape {x.shape} and k={k}, expected (n, k) = {(n, k)}"
    )
    assert indices.shape == (n, k), (
        f"indices has shape {indices.shape} for x of shape {x.shape} and k={k}, expected (n, k) = {(n, k)}"
    )
    assert np.issubdtype(indices.dtype, np.integer), f"indices have dtype {indices.dtype}, expected an integer dtype"
    want_values, want_indices = expected(x, k)
    problem = mismatch(values, want_values)
    if problem:
        raise AssertionError(f"wrong values for x of shape {x.shape} and k={k}:{problem}")
    problem = mismatch(indices, want_indices)
    if problem:
        raise AssertionError(
            f"wrong indices for x of shape {x.shape} and k={k} (for tied values the smaller column comes first):{problem}"
        )
    return values, indices


@pytest.mark.points(2)
def test_random_floats(student):
    rng = np.random.default_rng(0)
    for n, m, k in ((4, 9, 3), (9, 4, 3), (6, 6, 4), (3, 50, 7)):
        check(student, rng.normal(size=(n, m)), k)


@pytest.mark.points(2)
def test_many_ties_keep_column_order(student):
    # Few distinct values in long rows: an unstable sort or a reversed increasing sort misorders ties.
    rng = np.random.default_rng(1)
    check(student, rng.integers(0, 4, size=(6, 40)), 25)
    check(student, rng.integers(-2, 2, size=(3, 300)).astype(np.float64), 100)
    check(student, np.zeros((2, 5)), 3)


@pytest.mark.points(1)
def test_k_is_one_or_the_whole_row(student):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 6))
    check(student, x, 1)
    check(student, x, 6)


@pytest.mark.points(1)
def test_single_row_and_single_column(student):
    rng = np.random.default_rng(3)
    check(student, rng.normal(size=(1, 8)), 3)
    check(student, rng.normal(size=(4, 1)), 1)


@pytest.mark.points(1)
def test_negative_and_infinite_values(student):
    x = np.array([[-3.0, -1.0, -np.inf, -2.0], [np.inf, -5.0, 0.0, np.inf], [-0.5, -0.25, -0.75, -1.0]])
    check(student, x, 2)


@pytest.mark.points(1)
def test_keeps_dtype(student):
    rng = np.random.default_rng(4)
    for dtype in (np.int32, np.float32, np.int64):
        x = (rng.permutation(100)[:21].reshape(3, 7) - 50).astype(dtype)  # distinct values, no ties
        values, _ = check(student, x, 3)
        assert values.dtype == dtype, f"values have dtype {values.dtype} for x of dtype {np.dtype(dtype)}, expected the same dtype"


@pytest.mark.points(1)
def test_large_batch(student):
    rng = np.random.default_rng(5)
    check(student, rng.normal(size=(400, 300)), 10)
