import numpy as np
import pytest


def brute_force(a, b):
    """Distances by broadcasting the differences, in float64."""
    diff = a.astype(np.float64)[:, None, :] - b.astype(np.float64)[None, :, :]
    return np.sqrt((diff**2).sum(axis=-1))


def check(student, a, b, rtol=1e-6, atol=1e-6):
    got = student.pairwise_distances(a, b)
    assert isinstance(got, np.ndarray), f"pairwise_distances returned {type(got).__name__}, expected a numpy array"
    n, m = a.shape[0], b.shape[0]
    assert got.shape == (n, m), f"shape {got.shape} for a of shape {a.shape} and b of shape {b.shape}, expected (n, m) = {(n, m)}"
    assert not np.isnan(got).any(), (
        f"{int(np.isnan(got).sum())} nan entries: rounding made a squared distance negative; clip it at 0 before np.sqrt"
    )
    assert (got >= 0).all(), "negative distances"
    np.testing.assert_allclose(got, brute_force(a, b), rtol=rtol, atol=atol)
    return got


@pytest.mark.points(2)
def test_random_points_of_several_sizes(student):
    rng = np.random.default_rng(0)
    for n, m, d in ((5, 7, 3), (7, 5, 3), (4, 4, 10), (6, 9, 1), (13, 2, 32)):
        check(student, rng.normal(size=(n, d)), rng.normal(size=(m, d)))


@pytest.mark.points(1)
def test_single_rows(student):
    rng = np.random.default_rng(1)
    for n, m, d in ((1, 5, 4), (4, 1, 4), (1, 1, 6), (1, 1, 1)):
        check(student, rng.normal(size=(n, d)), rng.normal(size=(m, d)))


@pytest.mark.points(2)
def test_identical_points_give_zero_not_nan(student):
    # Far from the origin, ||x||^2 + ||x||^2 - 2 x.x rounds to small negative numbers for about a third of the pairs.
    rng = np.random.default_rng(2)
    a = rng.normal(size=(32, 16)) + 1000.0
    got = check(student, a, a, rtol=1e-6, atol=1e-3)
    assert np.abs(np.diag(got)).max() <= 1e-3, (
        f"the distance of a point to itself is up to {np.abs(np.diag(got)).max():.3g}, expected about 0"
    )
    b = np.concatenate([a[5:9], rng.normal(size=(3, 16)) + 1000.0])
    check(student, a, b, rtol=1e-6, atol=1e-3)
    # The same in float32, where rounding is much coarser.
    c = (rng.normal(size=(32, 8)) + 10.0).astype(np.float32)
    check(student, c, c, rtol=1e-3, atol=5e-2)


@pytest.mark.points(2)
def test_keeps_float32(student):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(6, 5)).astype(np.float32)
    b = rng.normal(size=(8, 5)).astype(np.float32)
    got = check(student, a, b, rtol=1e-4, atol=1e-4)
    assert got.dtype == np.float32, f"dtype {got.dtype} for float32 inputs, expected float32"


@pytest.mark.points(1)
def test_float64_stays_float64(student):
    rng = np.random.default_rng(4)
    got = check(student, rng.normal(size=(3, 4)), rng.normal(size=(2, 4)))
    assert got.dtype == np.float64, f"dtype {got.dtype} for float64 inputs, expected float64"


@pytest.mark.points(1)
def test_many_points(student):
    rng = np.random.default_rng(5)
    check(student, rng.normal(size=(300, 64)), rng.normal(size=(250, 64)), rtol=1e-6, atol=1e-5)
