import math

import numpy as np
import pytest

# Learner-facing text lives only in assert messages and raise statements: hidden tests show the
# learner nothing else.


def ref_gauss_ll(x, mu, var):
    return float(np.sum(-0.5 * np.log(2 * np.pi * var) - (x - mu) ** 2 / (2 * var)))


def ref_bern_ll(p, data):
    k = int(np.sum(data))
    n = len(data)
    out = 0.0
    if k:
        out += k * math.log(p) if p > 0 else -math.inf
    if n - k:
        out += (n - k) * math.log1p(-p) if p < 1 else -math.inf
    return out


def as_number(got):
    """got as a Python float (a numpy scalar or a 0-d array is fine too), or None."""
    if isinstance(got, (float, int, np.floating, np.integer)) and not isinstance(got, bool):
        return float(got)
    if isinstance(got, np.ndarray) and got.shape == ():
        return float(got)
    return None


def number(got):
    value = as_number(got)
    if value is None:
        raise AssertionError(f"returned {type(got).__name__}, expected a float")
    return value


def close(a, b, rtol=1e-10):
    return abs(a - b) <= rtol * max(1.0, abs(b))


@pytest.mark.points(2)
def test_gaussian_mle_divides_by_n(student):
    x = np.random.default_rng(1).normal(loc=-2.0, scale=3.0, size=9)
    out = student.gaussian_mle(x)
    assert isinstance(out, tuple) and len(out) == 2, (
        f"gaussian_mle must return a tuple (mu, var), got {type(out).__name__}"
    )
    mu, var = number(out[0]), number(out[1])
    assert close(mu, float(x.mean())), f"mu = {mu:.10f}, expected the sample mean {x.mean():.10f}"
    assert not close(var, float(x.var(ddof=1))), (
        "var is the unbiased estimate (divided by n - 1); the maximum-likelihood estimate divides by n"
    )
    assert close(var, float(x.var())), f"var = {var:.10f}, expected {x.var():.10f} (mean squared deviation)"


@pytest.mark.points(1)
def test_gaussian_mle_one_sample_and_empty(student):
    out = student.gaussian_mle(np.array([4.5]))
    assert isinstance(out, tuple) and len(out) == 2, (
        f"gaussian_mle must return a tuple (mu, var), got {type(out).__name__}"
    )
    assert number(out[0]) == 4.5 and number(out[1]) == 0.0, f"gaussian_mle([4.5]) should be (4.5, 0.0), got {out}"
    try:
        student.gaussian_mle(np.array([]))
    except Exception as exc:
        etype = getattr(exc, "etype", type(exc).__name__)
        assert etype == ValueError.__name__, f"gaussian_mle of an empty array must raise ValueError, got {etype}: {exc}"
    else:
        raise AssertionError("gaussian_mle of an empty array must raise ValueError")


@pytest.mark.points(2)
def test_gaussian_log_likelihood_values(student):
    x = np.random.default_rng(2).normal(loc=1.0, scale=2.0, size=25)
    for mu, var in ((1.0, 4.0), (0.3, 0.25), (-2.0, 9.0)):
        got = number(student.gaussian_log_likelihood(x, mu, var))
        expected = ref_gauss_ll(x, mu, var)
        assert close(got, expected), (
            f"gaussian_log_likelihood(x, mu={mu}, var={var}) for 25 points = {got:.8f}, expected {expected:.8f}: "
            "var is the variance, and -0.5 * log(2 pi var) counts once per point"
        )
    # The MLE maximizes it: nudging either parameter lowers the log-likelihood.
    mu, var = float(x.mean()), float(x.var())
    best = number(student.gaussian_log_likelihood(x, mu, var))
    for m, v in ((mu + 0.05, var), (mu - 0.05, var), (mu, var * 1.05), (mu, var * 0.95), (mu, float(x.var(ddof=1)))):
        other = number(student.gaussian_log_likelihood(x, m, v))
        assert other < best, (
            f"the log-likelihood at mu={m:.4f}, var={v:.4f} is {other:.6f}, not below its value {best:.6f} at the "
            "maximum-likelihood estimate"
        )


@pytest.mark.points(1)
def test_gaussian_log_likelihood_far_from_the_mean(student):
    x = np.array([40.0, -60.0, 1000.0])
    got = number(student.gaussian_log_likelihood(x, 0.0, 1.0))
    expected = ref_gauss_ll(x, 0.0, 1.0)
    assert math.isfinite(got), (
        f"gaussian_log_likelihood gave {got} for points 40, 60 and 1000 standard deviations out: the density "
        "underflows to 0 there, so write the log density directly instead of taking the log of the pdf"
    )
    assert close(got, expected), f"got {got:.6f}, expected {expected:.6f}"


@pytest.mark.points(2)
def test_bernoulli_log_likelihood_values(student):
    data = (np.random.default_rng(3).uniform(size=50) < 0.3).astype(np.int64)
    for p in (0.3, 0.05, 0.9):
        got = number(student.bernoulli_log_likelihood(p, data))
        expected = ref_bern_ll(p, data)
        assert close(got, expected), (
            f"bernoulli_log_likelihood({p}, data) for {int(data.sum())} ones in 50 flips = {got:.8f}, expected "
            f"{expected:.8f}"
        )
    k = int(data.sum())
    mle = number(student.bernoulli_log_likelihood(k / 50, data))
    for p in (k / 50 - 0.02, k / 50 + 0.02):
        assert number(student.bernoulli_log_likelihood(p, data)) < mle, (
            "the log-likelihood should be largest at p = (number of ones) / n, the maximum-likelihood estimate"
        )


@pytest.mark.points(2)
def test_bernoulli_p_zero_and_one(student):
    zeros, ones, mixed = np.zeros(5, dtype=np.int64), np.ones(4, dtype=np.int64), np.array([0, 1, 0, 0])
    got = number(student.bernoulli_log_likelihood(0.0, zeros))
    assert got == 0.0, (
        f"p = 0 with no ones: every flip was certain, expected 0.0, got {got} (0 * log(0) is nan in numpy)"
    )
    got = number(student.bernoulli_log_likelihood(1.0, ones))
    assert got == 0.0, (
        f"p = 1 with only ones: every flip was certain, expected 0.0, got {got} (0 * log(0) is nan in numpy)"
    )
    got = number(student.bernoulli_log_likelihood(0.0, mixed))
    assert got == -math.inf, f"p = 0 but a 1 was observed: the data is impossible, expected -inf, got {got}"
    got = number(student.bernoulli_log_likelihood(1.0, mixed))
    assert got == -math.inf, f"p = 1 but a 0 was observed: the data is impossible, expected -inf, got {got}"


@pytest.mark.points(1)
def test_bernoulli_tiny_p(student):
    data = np.zeros(1000, dtype=np.int64)
    got = number(student.bernoulli_log_likelihood(1e-18, data))
    expected = 1000 * math.log1p(-1e-18)  # -1e-15
    assert got != 0.0, (
        "with p = 1e-18, 1 - p rounds to 1.0 and log(1 - p) to 0, but the answer is 1000 * log(1 - p), about "
        "-1e-15: use log1p(-p)"
    )
    assert abs(got - expected) <= 1e-9 * abs(expected), f"got {got}, expected {expected}"
