"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_example(student):
    got = student.normalize_rows(np.array([[3.0, 4.0], [0.0, 2.0]]))
    assert isinstance(got, np.ndarray), f"normalize_rows returned {type(got).__name__}, expected a numpy array"
    np.testing.assert_allclose(got, np.array([[0.6, 0.8], [0.0, 1.0]]), rtol=1e-6)
