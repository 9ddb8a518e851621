import pytest

from grader.limits import DEFAULT_LIMITS, MAX_LIMITS, Limits


def test_override_tightens_and_raises_within_the_ceiling():
    limits = DEFAULT_LIMITS.override({"timeout_s": 5, "memory_mb": 4096})
    assert limits.timeout_s == 5.0 and isinstance(limits.timeout_s, float)
    assert limits.memory_mb == 4096
    assert limits.cpus == DEFAULT_LIMITS.cpus


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timeout": 5}, "unknown limit 'timeout'"),
        ({"timeout_s": "5"}, "must be a number"),
        ({"timeout_s": True}, "must be a number"),
        ({"memory_mb": 1.5}, "whole number"),
        ({"cpus": 0}, "must be positive"),
        ({"memory_mb": MAX_LIMITS.memory_mb + 1}, "above the maximum"),
    ],
)
def test_override_refuses_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        DEFAULT_LIMITS.override(values)


def test_deadlines_nest():
    limits = Limits()
    assert limits.timeout_s < limits.judge_deadline_s < limits.host_deadline_s
