import numpy as np
import pytest


def reference(x):
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms != 0)


def check(student, x):
    before = x.copy()
    got = student.normalize_rows(x)
    assert isinstance(got, np.ndarray), f"normalize_rows returned {type(got).__name__}, expected a numpy array"
    assert got.shape == x.shape, f"shape {got.shape}, expected {x.shape}"
    np.testing.assert_allclose(got, reference(before), rtol=1e-5, atol=1e-6)
    return got


@pytest.mark.points(2)
def test_random_matrix(student):
    rng = np.random.default_rng(0)
    check(student, rng.normal(size=(5, 7)))


@pytest.mark.points(2)
def test_zero_row_stays_zero(student):
    got = check(student, np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]))
    assert not np.isnan(got).any(), "a zero row became nan: divide only where the norm is not zero"


@pytest.mark.points(1)
def test_keeps_dtype(student):
    got = check(student, np.array([[1.0, 1.0], [2.0, 0.0]], dtype=np.float32))
    assert got.dtype == np.float32, f"dtype {got.dtype}, expected float32"


@pytest.mark.points(1)
def test_single_row_and_single_column(student):
    check(student, np.array([[1.0, 2.0, 3.0]]))
    check(student, np.array([[2.0], [-3.0], [0.0]]))


@pytest.mark.points(1)
def test_rows_not_columns(student):
    # A square matrix catches normalizing along the wrong axis.
    check(student, np.array([[1.0, 0.0], [1.0, 1.0]]))
