"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_one_hot_example(student):
    got = student.one_hot(np.array([2, 0, 1]), 3)
    assert isinstance(got, np.ndarray), f"one_hot returned {type(got).__name__}, expected a numpy array"
    np.testing.assert_array_equal(got, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert got.dtype == np.int64, f"dtype {got.dtype}, expected int64"


@pytest.mark.points(1)
def test_confusion_matrix_example(student):
    got = student.confusion_matrix(np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 2, 1]), 3)
    assert isinstance(got, np.ndarray), f"confusion_matrix returned {type(got).__name__}, expected a numpy array"
    np.testing.assert_array_equal(
        got, [[1, 0, 0], [0, 1, 1], [0, 0, 2]], err_msg="rows are the true class, columns the predicted class"
    )
    assert got.dtype == np.int64, f"dtype {got.dtype}, expected int64"
