# Messages are built inside raise/assert statements so the judge shows them to the learner in full.
import numpy as np
import pytest
from sandbox_runtime.student import StudentError


def expected_one_hot(labels, n):
    out = np.zeros(labels.shape + (n,), dtype=np.int64)
    for index in np.ndindex(labels.shape):
        out[index + (int(labels[index]),)] = 1
    return out


def expected_confusion(y_true, y_pred, n):
    cm = np.zeros((n, n), dtype=np.int64)
    for t, p in zip(y_true.ravel().tolist(), y_pred.ravel().tolist()):
        cm[t, p] += 1
    return cm


def mismatch(got, want):
    try:
        np.testing.assert_array_equal(got, want)
    except AssertionError as exc:
        return str(exc)
    return ""


def check_one_hot(student, labels, n):
    got = student.one_hot(labels, n)
    assert isinstance(got, np.ndarray), f"one_hot returned {type(got).__name__}, expected a numpy array"
    want_shape = labels.shape + (n,)
    assert got.shape == want_shape, (
        f"one_hot of labels of shape {labels.shape} with n_classes={n} has shape {got.shape}, "
        f"expected labels.shape + (n_classes,) = {want_shape}"
    )
    problem = mismatch(got, expected_one_hot(labels, n))
    if problem:
        raise AssertionError(f"wrong one_hot for labels of shape {labels.shape}, n_classes={n}:{problem}")
    return got


def check_confusion(student, y_true, y_pred, n):
    got = student.confusion_matrix(y_true, y_pred, n)
    assert isinstance(got, np.ndarray), f"confusion_matrix returned {type(got).__name__}, expected a numpy array"
    assert got.shape == (n, n), f"confusion_matrix has shape {got.shape} for n_classes={n}, expected {(n, n)}"
    want = expected_confusion(y_true, y_pred, n)
    problem = mismatch(got, want)
    if problem and got.sum() < want.sum():
        raise AssertionError(
            f"wrong confusion matrix for {y_true.size} samples, n_classes={n}: the counts add up to {got.sum()}, "
            f"not {want.sum()}; are repeated (true, pred) pairs counted only once?{problem}"
        )
    if problem and np.array_equal(got, want.T):
        raise AssertionError(
            f"wrong confusion matrix for {y_true.size} samples, n_classes={n}: this is the transpose; "
            f"rows are the true class, columns the prediction.{problem}"
        )
    if problem:
        raise AssertionError(f"wrong confusion matrix for {y_true.size} samples, n_classes={n}:{problem}")
    return got


def value_error(call, *args):
    """The learner's exception for bad input; it must be a ValueError."""
    try:
        got = call(*args)
    except StudentError as exc:
        error = exc
    else:
        raise AssertionError(
            f"returned {'an array of shape ' + str(got.shape) if isinstance(got, np.ndarray) else repr(got)} "
            "instead of raising ValueError"
        )
    assert error.etype == ValueError.__name__, f"raised {error.etype} ({error}), expected ValueError"


@pytest.mark.points(1)
def test_one_hot_random_labels(student):
    rng = np.random.default_rng(0)
    for n, size in ((3, 10), (10, 57), (1, 4)):
        check_one_hot(student, rng.integers(0, n, size=size), n)


@pytest.mark.points(1)
def test_one_hot_more_classes_than_seen(student):
    check_one_hot(student, np.array([0, 1, 1]), 5)
    check_one_hot(student, np.array([3]), 7)


@pytest.mark.points(1)
def test_one_hot_any_shape_and_empty(student):
    rng = np.random.default_rng(1)
    check_one_hot(student, rng.integers(0, 4, size=(2, 3)), 4)
    check_one_hot(student, rng.integers(0, 6, size=(2, 1, 5)), 6)
    check_one_hot(student, np.zeros(0, dtype=np.int64), 3)


@pytest.mark.points(1)
def test_one_hot_rejects_out_of_range(student):
    try:
        value_error(student.one_hot, np.array([0, 2, -1]), 3)
        value_error(student.one_hot, np.array([0, 3, 1]), 3)
    except AssertionError as exc:
        raise AssertionError(
            f"one_hot with a label of -1 or n_classes: {exc}; a label of -1 silently picks the last row "
            "of an identity matrix, so check the range yourself"
        ) from None


@pytest.mark.points(2)
def test_confusion_random_with_repeated_pairs(student):
    rng = np.random.default_rng(2)
    for n, size in ((3, 40), (5, 1000), (2, 7), (12, 100_000)):
        y_true = rng.integers(0, n, size=size)
        # Mostly right, sometimes wrong: many repeated (true, pred) pairs, and an asymmetric matrix.
        y_pred = np.where(rng.random(size) < 0.7, y_true, rng.integers(0, n, size=size))
        check_confusion(student, y_true, y_pred, n)


@pytest.mark.points(1)
def test_confusion_one_pair_many_times(student):
    check_confusion(student, np.array([1, 1, 1, 1]), np.array([0, 0, 0, 0]), 2)
    check_confusion(student, np.array([2, 0, 2, 2, 0]), np.array([2, 1, 2, 2, 1]), 3)


@pytest.mark.points(1)
def test_confusion_absent_classes_and_no_samples(student):
    rng = np.random.default_rng(3)
    check_confusion(student, rng.integers(0, 2, size=20), rng.integers(0, 2, size=20), 4)
    empty = np.zeros(0, dtype=np.int64)
    check_confusion(student, empty, empty, 3)


@pytest.mark.points(1)
def test_confusion_small_integer_dtype(student):
    # uint8 labels with 30 classes: true * 30 + pred does not fit in uint8.
    rng = np.random.default_rng(4)
    y_true = rng.integers(0, 30, size=500).astype(np.uint8)
    y_pred = rng.integers(0, 30, size=500).astype(np.uint8)
    check_confusion(student, y_true, y_pred, 30)
    check_one_hot(student, y_true[:50], 30)


@pytest.mark.points(1)
def test_confusion_rejects_bad_input(student):
    try:
        value_error(student.confusion_matrix, np.array([0, 1, 1]), np.array([0, 1]), 2)
    except AssertionError as exc:
        raise AssertionError(f"confusion_matrix with y_true of length 3 and y_pred of length 2: {exc}") from None
    try:
        value_error(student.confusion_matrix, np.array([0, 1, 2]), np.array([0, 3, 2]), 3)
        value_error(student.confusion_matrix, np.array([0, -1, 2]), np.array([0, 1, 2]), 3)
    except AssertionError as exc:
        raise AssertionError(
            f"confusion_matrix with a label of n_classes or -1: {exc}; such labels can land silently in "
            "another cell, so check the range yourself"
        ) from None


@pytest.mark.points(1)
def test_integer_dtypes(student):
    got = check_one_hot(student, np.array([1, 0]), 2)
    assert got.dtype == np.int64, f"one_hot returned dtype {got.dtype}, expected int64 (np.eye is float64 by default)"
    got = check_confusion(student, np.array([1, 0, 1]), np.array([1, 1, 1]), 2)
    assert got.dtype == np.int64, f"confusion_matrix returned dtype {got.dtype}, expected int64"
