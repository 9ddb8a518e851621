"""`bundle validate`: static checks without Docker, the sandbox checks with it."""

import json
import shutil

import pytest

from grader.scaffold import scaffold
from grader.validate import validate
from tests.support import EXERCISES

SHIPPED = sorted(p.parent for p in EXERCISES.glob("*/*/exercise.toml"))


def _failed(report):
    return {c.name for c in report.checks if not c.ok}


@pytest.fixture
def bundle(tmp_path):
    root = tmp_path / "exercises"
    root.mkdir()
    shutil.copy(EXERCISES / "curriculum.toml", root)
    return scaffold(root, "numpy", "scale-array")


def test_scaffold_passes_the_static_checks(bundle):
    report = validate(bundle, run_sandbox=False)
    assert report.ok, report.to_text()


def test_an_undefined_environment_is_refused(bundle):
    toml = bundle / "exercise.toml"
    toml.write_text('environment = "quantum"\n' + toml.read_text())
    report = validate(bundle, run_sandbox=False)
    assert _failed(report) == {"environment is defined"}
    assert "unknown environment 'quantum' (known: base, mi)" in report.to_text()


def test_unknown_module_and_bad_metadata(tmp_path, bundle):
    moved = shutil.move(bundle, tmp_path / "exercises" / "no-such-module" / "scale-array")
    assert "module in curriculum.toml" in _failed(validate(moved, run_sandbox=False))
    (moved / "exercise.toml").write_text('slug = "scale-array"\ntitle = "x"\npoints = 1\nextra = 1\n')
    report = validate(moved, run_sandbox=False)
    assert _failed(report) == {"metadata"} and "unknown key 'extra'" in report.checks[0].message


def test_template_without_a_solution_region_is_refused(bundle):
    nb = json.loads((bundle / "solution.ipynb").read_text())
    for cell in nb["cells"]:
        cell["source"] = cell["source"].replace("    # BEGIN SOLUTION\n", "").replace("\n    # END SOLUTION", "")
    (bundle / "solution.ipynb").write_text(json.dumps(nb))
    assert "template" in _failed(validate(bundle, run_sandbox=False))


def test_unbalanced_markers_name_the_cell(bundle):
    nb = json.loads((bundle / "solution.ipynb").read_text())
    nb["cells"][2]["source"] = nb["cells"][2]["source"].replace("    # END SOLUTION", "")
    (bundle / "solution.ipynb").write_text(json.dumps(nb))
    report = validate(bundle, run_sandbox=False)
    (template,) = [c for c in report.checks if c.name == "template"]
    assert "cell 2, line 3: BEGIN SOLUTION is never closed" in template.message


def test_hidden_test_text_in_data_is_a_leak(bundle):
    hidden = (bundle / "tests" / "test_hidden.py").read_text()
    (bundle / "data" / "notes.txt").write_text(hidden)
    report = validate(bundle, run_sandbox=False)
    assert "no hidden test text in the template or data" in _failed(report)


def test_visible_files_may_not_import_hidden_ones(bundle):
    (bundle / "tests" / "test_visible.py").write_text(
        (bundle / "tests" / "test_visible.py").read_text() + "\nfrom test_hidden import test_random_arrays\n"
    )
    assert "visible test files stand alone" in _failed(validate(bundle, run_sandbox=False))


def test_a_test_name_in_two_files_is_refused(bundle):
    hidden = (bundle / "tests" / "test_hidden.py").read_text()
    first = next(line for line in hidden.splitlines() if line.startswith("def test_"))
    name = first[4 : first.index("(")]
    (bundle / "tests" / "test_more.py").write_text(f"def {name}(student):\n    assert True\n")
    report = validate(bundle, run_sandbox=False)
    assert "test names are unique" in _failed(report)
    assert f"{name} is defined in test_hidden.py, test_more.py" in report.to_text()


def test_data_over_the_limit(bundle):
    (bundle / "data" / "big.bin").write_bytes(b"\0" * (21 * 2**20))
    assert "data files within 20 MB" in _failed(validate(bundle, run_sandbox=False))


@pytest.mark.docker
def test_the_scaffold_is_valid_in_the_sandbox(bundle, sandbox_settings):
    report = validate(bundle, settings=sandbox_settings)
    assert report.ok, report.to_text()


@pytest.mark.docker
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shipped_bundle_is_valid(path, sandbox_settings):
    """CI's check of the curriculum: reference full marks, template less, every test within limits."""
    report = validate(path, settings=sandbox_settings)
    assert report.ok, report.to_text()
    assert report.reference["score"] == report.reference["max_score"]


@pytest.mark.docker
def test_sandbox_checks_catch_a_wrong_reference_and_unmarked_tests(bundle, sandbox_settings):
    nb = json.loads((bundle / "solution.ipynb").read_text())
    nb["cells"][2]["source"] = nb["cells"][2]["source"].replace("return x * factor", "return x + factor")
    (bundle / "solution.ipynb").write_text(json.dumps(nb))
    hidden = bundle / "tests" / "test_hidden.py"
    hidden.write_text(
        hidden.read_text() + "\n\ndef test_unmarked(student):\n    assert student.scale(1.0, 1.0) == 1.0\n"
    )
    report = validate(bundle, settings=sandbox_settings)
    assert not report.ok
    failed = _failed(report)
    assert {"reference gets full marks", "every test has points"} <= failed
    assert "test_unmarked" in next(c.message for c in report.checks if c.name == "every test has points")
    assert "test_random_arrays" in next(c.message for c in report.checks if c.name == "reference gets full marks")
