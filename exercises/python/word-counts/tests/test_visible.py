"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest

pytestmark = pytest.mark.visible

SAMPLE = "The cat saw the dog. The DOG ran!"


@pytest.mark.points(1)
def test_count_words_example(student):
    got = student.count_words(SAMPLE)
    assert isinstance(got, dict), (
        f"count_words returned {getattr(got, 'remote_type', type(got).__name__)}, expected a plain dict"
    )
    assert got == {"the": 3, "cat": 1, "saw": 1, "dog": 2, "ran": 1}, f"count_words gave {got}"


@pytest.mark.points(1)
def test_top_words_example(student):
    got = student.top_words(SAMPLE, 3)
    assert isinstance(got, list), f"top_words returned {type(got).__name__}, expected a list"
    assert got == [("the", 3), ("dog", 2), ("cat", 1)], f"top_words gave {got}"
