"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_example_without_ties(student):
    x = np.array([[0.1, 0.9, 0.4], [0.7, 0.2, 0.5]])
    got = student.top_k_per_row(x, 2)
    assert isinstance(got, tuple) and len(got) == 2, "top_k_per_row must return a tuple (values, indices)"
    values, indices = got
    np.testing.assert_array_equal(indices, [[1, 2], [0, 2]])
    np.testing.assert_array_equal(values, [[0.9, 0.4], [0.7, 0.5]])


@pytest.mark.points(1)
def test_example_with_ties(student):
    values, indices = student.top_k_per_row(np.array([[1, 5, 3, 5], [4, 0, 4, 2]]), 2)
    np.testing.assert_array_equal(indices, [[1, 3], [0, 2]], err_msg="tied values: the smaller column comes first")
    np.testing.assert_array_equal(values, [[5, 5], [4, 4]])
