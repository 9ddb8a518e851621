"""Visible tests: shipped in the starter pack, so learners can run them offline."""

import pytest
from sandbox_runtime.student import StudentError

pytestmark = pytest.mark.visible


@pytest.mark.points(1)
def test_example(student):
    lines = ["# training run", "lr = 3e-4", "", "n_layers = 2", "use_bias = false", 'name = "tiny-gpt"']
    got = student.parse_config(lines)
    assert isinstance(got, dict), f"parse_config returned {type(got).__name__}, expected a dict"
    assert got == {"lr": 3e-4, "n_layers": 2, "use_bias": False, "name": "tiny-gpt"}, f"parse_config gave {got}"
    assert type(got["n_layers"]) is int, "n_layers = 2 must give the int 2"


@pytest.mark.points(1)
def test_error_names_the_line(student):
    with pytest.raises(StudentError) as info:
        student.parse_config(["lr = 3e-4", "", "n_layers 2"])
    assert info.value.etype == "ValueError", f"raised {info.value.etype}, expected ValueError"
    message = str(info.value).split("raised ValueError: ", 1)[-1]
    assert message.startswith("line 3:"), f"message {message!r} should start with 'line 3:'"
