"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import math

import pytest

pytestmark = pytest.mark.visible


def read(rs, name):
    value = getattr(rs, name)
    assert isinstance(value, (int, float)) and not isinstance(value, bool), (
        f"rs.{name} gave a {getattr(value, 'remote_type', type(value).__name__)}, expected a number "
        f"(make {name} a @property that returns it)"
    )
    return value


@pytest.mark.points(2)
def test_example(student):
    rs = student.RunningStats()
    rs.extend([2, 4, 4, 4, 5, 5, 7, 9])
    assert read(rs, "count") == 8, f"count is {rs.count}, expected 8"
    assert math.isclose(read(rs, "mean"), 5.0), f"mean is {rs.mean}, expected 5.0"
    assert math.isclose(read(rs, "variance"), 4.0), f"variance is {rs.variance}, expected 4.0 (divide M2 by n)"
    assert math.isclose(read(rs, "sample_variance"), 32 / 7), (
        f"sample_variance is {rs.sample_variance}, expected 32/7 (divide M2 by n - 1)"
    )


@pytest.mark.points(1)
def test_merge_example(student):
    left, right = student.RunningStats(), student.RunningStats()
    left.extend([2, 4, 4, 4])
    right.extend([5, 5, 7, 9])
    both = left.merge(right)
    assert read(both, "count") == 8, f"merged count is {both.count}, expected 8"
    assert math.isclose(read(both, "mean"), 5.0), f"merged mean is {both.mean}, expected 5.0"
    assert math.isclose(read(both, "variance"), 4.0), f"merged variance is {both.variance}, expected 4.0"
