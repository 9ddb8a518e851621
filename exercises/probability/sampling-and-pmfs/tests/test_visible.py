"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_example(student):
    # cdf = [0.25, 0.75, 1.0]: [0, 0.25) -> 0, [0.25, 0.75) -> 1, [0.75, 1) -> 2.
    got = student.sample_categorical(np.array([0.25, 0.5, 0.25]), np.array([0.0, 0.1, 0.25, 0.74, 0.75, 0.99]))
    assert isinstance(got, np.ndarray), f"sample_categorical returned {type(got).__name__}, expected a numpy array"
    assert np.issubdtype(got.dtype, np.integer), f"dtype {got.dtype}, expected an integer dtype"
    np.testing.assert_array_equal(got, [0, 0, 1, 1, 2, 2])

    pdf = student.normal_pdf(np.array([0.0, 1.0]), 0.0, 1.0)
    assert isinstance(pdf, np.ndarray), f"normal_pdf returned {type(pdf).__name__}, expected a numpy array"
    np.testing.assert_allclose(pdf, [1 / math.sqrt(2 * math.pi), math.exp(-0.5) / math.sqrt(2 * math.pi)], rtol=1e-12)

    pmf = student.binomial_pmf(np.array([0, 1, 2]), 2, 0.5)
    assert isinstance(pmf, np.ndarray), f"binomial_pmf returned {type(pmf).__name__}, expected a numpy array"
    np.testing.assert_allclose(pmf, [0.25, 0.5, 0.25], rtol=1e-12)
