import math

import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.


def ref_sample(probs, u):
    cdf = np.cumsum(probs)
    return np.searchsorted(cdf / cdf[-1], u, side="right")


def ref_normal(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def ref_binomial(k, n, p):
    out = []
    for kk in k:
        if p in (0.0, 1.0):
            out.append(float(kk == (0 if p == 0.0 else n)))
        else:
            log = math.lgamma(n + 1) - math.lgamma(kk + 1) - math.lgamma(n - kk + 1)
            out.append(math.exp(log + kk * math.log(p) + (n - kk) * math.log1p(-p)))
    return np.array(out)


def mismatch(got, expected, rtol, atol):
    """None when got is an array matching expected, else what is wrong."""
    try:
        if not isinstance(got, np.ndarray):
            raise AssertionError(f"returned {type(got).__name__}, expected a numpy array")
        if got.shape != expected.shape:
            raise AssertionError(f"shape {got.shape}, expected {expected.shape}")
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)
    except AssertionError as exc:
        return str(exc)
    return None


@pytest.mark.points(2)
def test_boundaries_belong_to_the_next_category(student):
    got = student.sample_categorical(np.array([0.25, 0.25, 0.5]), np.array([0.25, 0.5, 0.2499, 0.4999]))
    err = mismatch(got, np.array([1, 2, 0, 1]), 0, 0)
    assert err is None, (
        "with cdf [0.25, 0.5, 1], u = 0.25 is the start of category 1 and u = 0.5 the start of category 2 "
        f"(intervals [cdf[i-1], cdf[i]) are closed on the left): {err}"
    )
    probs = np.array([0.0, 0.5, 0.0, 0.5])
    got = student.sample_categorical(probs, np.array([0.0, 0.3, 0.5, 0.9]))
    assert isinstance(got, np.ndarray), f"sample_categorical returned {type(got).__name__}, expected a numpy array"
    assert got.shape == (4,), f"shape {got.shape}, expected (4,)"
    assert not np.isin(got, [0, 2]).any(), (
        f"with probs [0, 0.5, 0, 0.5] you sampled a category of probability 0 (got {got.tolist()}): u equal to a "
        "cdf value belongs to the next category"
    )
    err = mismatch(got, np.array([1, 1, 3, 3]), 0, 0)
    assert err is None, f"probs [0, 0.5, 0, 0.5] with u = [0, 0.3, 0.5, 0.9]: {err}"


@pytest.mark.points(1)
def test_unnormalized_weights_and_rounding(student):
    got = student.sample_categorical(np.array([1.0, 2.0, 1.0]), np.array([0.2, 0.3, 0.74, 0.8]))
    err = mismatch(got, np.array([0, 1, 1, 2]), 0, 0)
    assert err is None, f"weights [1, 2, 1] must be normalized to [0.25, 0.5, 0.25]: {err}"
    last = np.nextafter(1.0, 0.0)
    got = student.sample_categorical(np.full(10, 0.1), np.array([last, 0.95]))
    err = mismatch(got, np.array([9, 9]), 0, 0)
    assert err is None, (
        "ten weights of 0.1 with u just below 1 must give category 9: the running sum ends at 0.9999999999999999, "
        f"so divide by the total to make the cdf end at exactly 1: {err}"
    )


@pytest.mark.points(1)
def test_shape_dtype_and_frequencies(student):
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(7))
    u = rng.uniform(size=(3, 4))
    got = student.sample_categorical(probs, u)
    assert isinstance(got, np.ndarray), f"sample_categorical returned {type(got).__name__}, expected a numpy array"
    assert got.shape == (3, 4), f"shape {got.shape}, expected the shape of u, (3, 4)"
    assert np.issubdtype(got.dtype, np.integer), f"dtype {got.dtype}, expected integer category indices"
    np.testing.assert_array_equal(got, ref_sample(probs, u))
    # Evenly spread draws hit each category in proportion to its probability.
    N = 10000
    counts = np.bincount(student.sample_categorical(probs, (np.arange(N) + 0.5) / N).ravel(), minlength=7)
    assert counts.shape == (7,) and np.abs(counts - probs * N).max() <= 1.0, (
        f"{N} evenly spread draws gave counts {counts.tolist()}, expected about "
        f"{np.round(probs * N).astype(int).tolist()}"
    )


@pytest.mark.points(2)
def test_normal_pdf(student):
    x = np.linspace(-1.0, 4.0, 501)
    for mu, sigma in ((1.5, 0.3), (-0.5, 2.5), (0.0, 1.0)):
        got = student.normal_pdf(x, mu, sigma)
        err = mismatch(got, ref_normal(x, mu, sigma), 1e-10, 1e-300)
        assert err is None, (
            f"normal_pdf(x, mu={mu}, sigma={sigma}): sigma is the standard deviation, the variance is sigma**2: {err}"
        )
    wide = np.linspace(-10.0, 10.0, 20001)
    area = float(np.sum(student.normal_pdf(wide, 0.7, 0.4)) * (wide[1] - wide[0]))
    assert abs(area - 1.0) < 1e-6, f"normal_pdf(., 0.7, 0.4) integrates to {area:.6f}, expected 1"


@pytest.mark.points(2)
def test_binomial_pmf_large_n(student):
    n, p = 2000, 0.3
    k = np.arange(n + 1)
    got = student.binomial_pmf(k, n, p)
    assert isinstance(got, np.ndarray), f"binomial_pmf returned {type(got).__name__}, expected a numpy array"
    assert np.isfinite(got).all(), (
        "binomial_pmf(k, 2000, 0.3) has inf or nan: factorials and powers overflow or underflow, work in logs "
        "with lgamma"
    )
    err = mismatch(got, ref_binomial(k, n, p), 1e-8, 1e-15)
    assert err is None, f"binomial_pmf(k, 2000, 0.3) for k = 0..2000: {err}"
    total = float(got.sum())
    assert abs(total - 1.0) < 1e-9, f"binomial_pmf(k, 2000, 0.3) sums to {total}, expected 1"
    k = np.array([0, 3, 7, 10])
    err = mismatch(student.binomial_pmf(k, 10, 0.65), ref_binomial(k, 10, 0.65), 1e-10, 1e-300)
    assert err is None, f"binomial_pmf([0, 3, 7, 10], 10, 0.65): {err}"


@pytest.mark.points(2)
def test_binomial_pmf_p_zero_and_one(student):
    k = np.arange(6)
    for p in (0.0, 1.0):
        got = student.binomial_pmf(k, 5, p)
        assert isinstance(got, np.ndarray), f"binomial_pmf returned {type(got).__name__}, expected a numpy array"
        assert not np.isnan(got).any(), (
            f"binomial_pmf(k, 5, {p}) has nan: in logs, 0 * log(0) is nan; with p = {p} the outcome is certain"
        )
        err = mismatch(got, ref_binomial(k, 5, p), 0, 1e-15)
        assert err is None, f"binomial_pmf(k, 5, {p}) for k = 0..5: all the mass is on k = {0 if p == 0 else 5}: {err}"
