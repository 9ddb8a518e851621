"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example(student):
    out = student.gaussian_mle(np.array([1.0, 2.0, 3.0, 6.0]))
    assert isinstance(out, tuple) and len(out) == 2, "gaussian_mle must return a tuple (mu, var)"
    mu, var = out
    assert abs(mu - 3.0) < 1e-12, f"mu = {mu}, expected the sample mean 3"
    # Squared deviations 4, 1, 0, 9: their sum 14 divided by n = 4.
    assert abs(var - 3.5) < 1e-12, f"var = {var}, expected 14 / 4 = 3.5"

    ll = student.gaussian_log_likelihood(np.array([0.0]), 0.0, 1.0)
    assert isinstance(ll, (float, np.floating)), (
        f"gaussian_log_likelihood returned {type(ll).__name__}, expected a float"
    )
    assert abs(ll + 0.5 * math.log(2 * math.pi)) < 1e-12, f"got {ll}, expected -0.5 * log(2 pi)"

    ll = student.bernoulli_log_likelihood(0.5, np.array([1, 0, 1]))
    assert isinstance(ll, (float, np.floating)), (
        f"bernoulli_log_likelihood returned {type(ll).__name__}, expected a float"
    )
    assert abs(ll - 3 * math.log(0.5)) < 1e-12, f"got {ll}, expected 3 * log(0.5)"
    ll = student.bernoulli_log_likelihood(0.0, np.array([0, 0, 0]))
    assert ll == 0.0, f"p = 0 and no ones: every flip had probability 1, so the log-likelihood is 0.0, got {ll}"
