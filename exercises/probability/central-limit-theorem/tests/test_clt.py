import math

import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else. The statistical checks use tolerances of 7 or more standard errors, so a
# correct solution passes for any seed; the mistakes they target miss by far more.


def means_of(student, seed, n, trials):
    got = student.clt_means(seed, n, trials)
    if not isinstance(got, np.ndarray):
        raise AssertionError(f"clt_means returned {type(got).__name__}, expected a numpy array")
    if got.shape != (trials,):
        raise AssertionError(
            f"clt_means(seed, n={n}, trials={trials}) has shape {got.shape}, expected (trials,) = ({trials},): "
            "one average per experiment, over that experiment's n draws"
        )
    if not np.isfinite(got).all():
        raise AssertionError("clt_means returned inf or nan")
    return got.astype(float)


def as_number(got):
    if isinstance(got, (float, int, np.floating, np.integer)) and not isinstance(got, bool):
        return float(got)
    if isinstance(got, np.ndarray) and got.shape == ():
        return float(got)
    return None


@pytest.mark.points(2)
def test_seeded_generator_and_shape(student):
    a = means_of(student, 123, 7, 40)
    b = means_of(student, 123, 7, 40)
    assert np.array_equal(a, b), (
        "clt_means with the same seed gave different arrays: seed np.random.default_rng(rng_seed)"
    )
    c = means_of(student, 124, 7, 40)
    assert not np.array_equal(a, c), "clt_means with different seeds gave the same array: use rng_seed"
    before = student.np.random.get_state()
    student.np.random.seed(1)
    d = means_of(student, 123, 7, 40)
    student.np.random.seed(2)
    e = means_of(student, 123, 7, 40)
    assert np.array_equal(a, d) and np.array_equal(a, e), (
        "clt_means depends on numpy's global random state: draw from the generator np.random.default_rng(rng_seed)"
    )
    student.np.random.set_state(before)
    student.clt_means(5, 7, 40)
    after = student.np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2] == after[2], (
        "clt_means changed numpy's global random state (np.random.seed or np.random.* draws); use only its own "
        "np.random.default_rng(rng_seed)"
    )
    means_of(student, 0, 1, 3)  # n = 1: each average is a single draw


@pytest.mark.points(2)
def test_center_and_spread_of_the_means(student):
    n, trials = 30, 20000
    m = means_of(student, 2024, n, trials)
    center = float(m.mean())
    # Standard error of this grand mean: 1 / sqrt(n * trials) = 0.0013.
    assert abs(center - 1.0) < 0.01, (
        f"the averages have mean {center:.4f}, expected about 1 (the mean of the exponential distribution with "
        "scale 1): check the distribution and its scale"
    )
    spread = float(m.std())
    assert abs(spread / (1 / math.sqrt(n)) - 1.0) < 0.05, (
        f"the averages of n = {n} draws have standard deviation {spread:.4f}, expected about "
        f"1 / sqrt({n}) = {1 / math.sqrt(n):.4f}: the exponential distribution with scale 1 has standard deviation 1, "
        "and each average is over n independent draws"
    )


@pytest.mark.points(2)
def test_standardized_means_look_standard_normal(student):
    n, trials = 50, 20000
    m = means_of(student, 7, n, trials)
    z = (m - 1.0) / (1.0 / math.sqrt(n))
    assert abs(float(z.mean())) < 0.05, f"the z-scores of your averages have mean {z.mean():.4f}, expected about 0"
    assert abs(float(z.std()) - 1.0) < 0.05, f"the z-scores of your averages have std {z.std():.4f}, expected about 1"
    inside = float(np.mean(np.abs(z) < 1.96))
    assert abs(inside - 0.95) < 0.015, f"{inside:.4f} of the z-scores lie within 1.96, expected about 0.95"


@pytest.mark.points(2)
def test_standardize_divides_by_the_standard_error(student):
    means = np.array([2.6, 1.4, 2.0, 3.2, 0.35])
    got = student.standardize_means(means, 25, 2.0, 3.0)
    assert isinstance(got, np.ndarray), f"standardize_means returned {type(got).__name__}, expected a numpy array"
    assert got.shape == means.shape, f"shape {got.shape}, expected {means.shape}"
    assert not np.allclose(got, (means - 2.0) / 3.0), (
        "you divided by sigma; the averages of n draws have standard deviation sigma / sqrt(n)"
    )
    expected = (means - 2.0) / (3.0 / 5.0)
    assert np.allclose(got, expected, rtol=1e-10, atol=1e-12), (
        f"standardize_means(means, n=25, mu=2, sigma=3) = {got}, expected (means - 2) / (3 / sqrt(25)) = {expected}"
    )
    default = student.standardize_means(np.array([1.2, 0.8]), 4)
    assert isinstance(default, np.ndarray) and np.allclose(default, [0.4, -0.4]), (
        f"standardize_means([1.2, 0.8], 4) with the default mu = 1, sigma = 1 should be [0.4, -0.4], got {default}"
    )


@pytest.mark.points(2)
def test_standard_error_uses_ddof_1(student):
    sample = np.array([2.0, 4.0, 4.0, 5.0, 9.0])
    got = as_number(student.standard_error(sample))
    assert got is not None, "standard_error must return a float"
    biased = float(sample.std() / math.sqrt(5))
    assert abs(got - biased) > 1e-6, (
        "standard_error used np.std's default ddof=0; the sample standard deviation uses ddof=1"
    )
    expected = float(sample.std(ddof=1) / math.sqrt(5))
    assert abs(got - expected) < 1e-12, f"standard_error({sample.tolist()}) = {got}, expected {expected}"
    for bad in (np.array([3.0]), np.array([])):
        try:
            student.standard_error(bad)
        except Exception as exc:
            etype = getattr(exc, "etype", type(exc).__name__)
            assert etype == ValueError.__name__, (
                f"standard_error of {bad.size} value(s) must raise ValueError, got {etype}: {exc}"
            )
        else:
            raise AssertionError(f"standard_error of {bad.size} value(s) must raise ValueError")


@pytest.mark.points(1)
def test_end_to_end(student):
    n, trials = 40, 10000
    z = student.standardize_means(student.clt_means(99, n, trials), n)
    assert isinstance(z, np.ndarray) and z.shape == (trials,), (
        "standardize_means(clt_means(99, 40, 10000), 40) should have shape (10000,)"
    )
    assert abs(float(z.std()) - 1.0) < 0.06, (
        f"standardize_means(clt_means(99, 40, 10000), 40) has std {z.std():.4f}, expected about 1"
    )
    assert abs(float(z.mean())) < 0.07, (
        f"standardize_means(clt_means(99, 40, 10000), 40) has mean {z.mean():.4f}, expected about 0"
    )
