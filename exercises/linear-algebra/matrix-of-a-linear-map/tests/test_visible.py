"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import numpy as np
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_rotation_and_chain(student):
    R = student.matrix_of(student.rotate90, 2)
    assert isinstance(R, np.ndarray), f"matrix_of returned {type(R).__name__}, expected a numpy array"
    # rotate90 sends e_0 = (1, 0) to (0, 1) and e_1 = (0, 1) to (-1, 0): those are the columns.
    np.testing.assert_allclose(R, [[0.0, -1.0], [1.0, 0.0]], atol=1e-12)

    S = np.array([[2.0, 0.0], [0.0, 1.0]])
    got = student.chain_maps([np.array([[0.0, -1.0], [1.0, 0.0]]), S])
    assert isinstance(got, np.ndarray), f"chain_maps returned {type(got).__name__}, expected a numpy array"
    # Rotate first, then stretch x by 2: the matrix is S @ R.
    np.testing.assert_allclose(got, [[0.0, -2.0], [1.0, 0.0]], atol=1e-12)
