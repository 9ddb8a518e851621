# Messages are built inside raise/assert statements so the judge shows them to the learner in full.
import pytest
from sandbox_runtime.student import StudentError


def kind(value):
    return getattr(value, "remote_type", type(value).__name__)


def parsed(student, lines):
    try:
        got = student.parse_config(lines)
    except StudentError as exc:
        raise AssertionError(f"parse_config raised on a valid config: {exc}") from None
    assert isinstance(got, dict), f"parse_config returned {kind(got)}, expected a dict"
    return got


def same(got, want):
    """Equal values of exactly the same types (so 1, 1.0 and True differ)."""
    return set(got) == set(want) and all(type(got[k]) is type(want[k]) and got[k] == want[k] for k in want)


def failure(student, lines, line_number):
    """The learner's error for a bad config; checks its type and its line number."""
    try:
        got = student.parse_config(lines)
    except StudentError as exc:
        error = exc
    else:
        raise AssertionError(
            f"parse_config returned {got!r} for a config whose line {line_number} is bad, expected a ValueError"
        )
    message = str(error).split(": ", 1)[-1]  # str(error) is "<call> raised <type>: <message>"
    if error.etype != ValueError.__name__:
        raise AssertionError(
            f"parse_config raised {error.etype} ({message!r}) for a bad line {line_number}; "
            "check the line yourself and raise a ValueError"
        )
    if not message.startswith(f"line {line_number}:"):
        raise AssertionError(
            f"the ValueError's message is {message!r}; it should start with 'line {line_number}:' "
            "(count from 1, every line including blank and comment lines)"
        )
    return message


@pytest.mark.points(2)
def test_parse_value_types(student):
    cases = [
        ("42", 42), ("-7", -7), ("0", 0), ("0.5", 0.5), ("3e-4", 3e-4), ("-1.0", -1.0), ("2.", 2.0),
        ("true", True), ("False", False), ("TRUE", True),
        ("adamw", "adamw"), ('"42"', "42"), ('"true"', "true"), ('"two words"', "two words"),
        ("#ff0000", "#ff0000"), ("1.2.3", "1.2.3"), ('"', '"'), ("fal se", "fal se"),
    ]
    for text, want in cases:
        got = student.parse_value(text)
        assert type(got) is type(want) and got == want, (
            f"parse_value({text!r}) gave {got!r} ({kind(got)}), expected {want!r} ({type(want).__name__})"
        )


@pytest.mark.points(1)
def test_values_in_a_config(student):
    lines = ["debug = False\n", "seed = 1234\n", "dropout = 0.0\n", "label = \"0\"\n", "act = gelu\n"]
    got = parsed(student, lines)
    want = {"debug": False, "seed": 1234, "dropout": 0.0, "label": "0", "act": "gelu"}
    assert same(got, want), f"parse_config gave {got!r}, expected {want!r} (types matter: False, 1234, 0.0, '0')"


@pytest.mark.points(1)
def test_value_may_contain_equals(student):
    got = parsed(student, ["url = http://host/run?a=b&c=d", "expr=x==y"])
    want = {"url": "http://host/run?a=b&c=d", "expr": "x==y"}
    assert same(got, want), f"parse_config gave {got!r}, expected {want!r}: split on the first '=' only"


@pytest.mark.points(1)
def test_blank_lines_comments_and_spacing(student):
    lines = [
        "   # indented comment = not a setting",
        "",
        "   \t  ",
        "#no_space=1",
        "  width=128  ",
        "\tcolor   =   #ff0000\t",
        "height =64\n",
    ]
    got = parsed(student, lines)
    want = {"width": 128, "color": "#ff0000", "height": 64}
    assert same(got, want), f"parse_config gave {got!r}, expected {want!r}"
    assert parsed(student, []) == {}, "an empty list of lines must give {}"
    assert parsed(student, ["# only", "", "# comments"]) == {}, "a config of comments only must give {}"


@pytest.mark.points(2)
def test_missing_equals_reports_the_right_line(student):
    # Blank and comment lines count: the bad line is the 5th, though only the 2nd setting.
    failure(student, ["# model", "", "d_model = 64", "", "n_heads 4", "d_head = 16"], 5)
    failure(student, ["just some words"], 1)
    failure(student, ["a = 1", "b = 2\n", "\n", "c: 3\n"], 4)


@pytest.mark.points(1)
def test_invalid_keys(student):
    failure(student, ["a = 1", " = 5"], 2)
    failure(student, ["my key = 1"], 1)
    failure(student, ["", "2x = 1"], 2)
    failure(student, ["ok = 1", "# fine", "n-layers = 2"], 3)


@pytest.mark.points(1)
def test_duplicate_key(student):
    failure(student, ["lr = 0.1", "# later:", "lr = 0.2"], 3)
    failure(student, ["a=1", "b=2", "A=3", "b = 2"], 4)


@pytest.mark.points(1)
def test_missing_value(student):
    failure(student, ["name = x", "lr ="], 2)
    failure(student, ["", "", "lr =   \n"], 3)


@pytest.mark.points(1)
def test_first_bad_line_wins(student):
    failure(student, ["a = 1", "oops", "a = 2", "b ="], 2)
    failure(student, ["x = 1", "x = 2", "oops"], 2)
