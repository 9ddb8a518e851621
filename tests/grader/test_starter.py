"""The starter pack: what it contains, and that its check.py runs the visible tests offline."""

import codecs
import io
import json
import subprocess
import sys
import zipfile

from grader.starter import starter_pack
from grader.template import make_template
from tests.support import EXERCISES

BUNDLE = EXERCISES / "numpy" / "normalize-rows"


def _pack(tmp_path):
    template = make_template(json.loads((BUNDLE / "solution.ipynb").read_text()))
    data = starter_pack(BUNDLE, template)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path)
    return tmp_path / "normalize-rows", names


def test_pack_has_template_visible_tests_and_runner_but_no_secrets(tmp_path):
    root, names = _pack(tmp_path)
    assert {
        "normalize-rows/normalize-rows.ipynb",
        "normalize-rows/README.md",
        "normalize-rows/check.py",
        "normalize-rows/tests/test_visible.py",
        "normalize-rows/sandbox_runtime/local.py",
    } <= set(names)
    assert "normalize-rows/tests/test_normalize_rows.py" not in names  # hidden
    assert not any("solution" in n for n in names)
    text = "".join((root / n.split("/", 1)[1]).read_text() for n in names if n.endswith((".py", ".ipynb")))
    assert "np.divide(x, norms" not in text  # the reference's code


def test_check_py_runs_the_visible_tests_offline(tmp_path):
    root, _ = _pack(tmp_path)
    template = subprocess.run([sys.executable, "check.py"], cwd=root, capture_output=True, text=True, timeout=120)
    assert template.returncode == 1, template.stderr
    assert "FAIL  test_example" in template.stdout and "NotImplementedError" in template.stdout
    solved = subprocess.run(
        [sys.executable, "check.py", str(BUNDLE / "solution.ipynb")],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "visible tests: 1/1 points" in solved.stdout


def test_check_py_adjusts_the_notebook_as_the_grader_does(tmp_path):
    root, names = _pack(tmp_path)
    assert "normalize-rows/grader/normalize.py" in names
    nb = json.loads((BUNDLE / "solution.ipynb").read_text())
    setup = {
        "cell_type": "code",
        "metadata": {},
        "execution_count": None,
        "outputs": [],
        "source": "%pip install numpy",
    }
    nb["cells"].insert(0, setup)
    nb["metadata"]["kernelspec"] = {"name": "conda-env-course-py", "display_name": "course", "language": "python"}
    saved = tmp_path / "from-colab.ipynb"
    saved.write_bytes(codecs.BOM_UTF8 + json.dumps(nb).encode())
    run = subprocess.run(
        [sys.executable, "check.py", str(saved)], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "adjusted:" in run.stdout and "%pip install numpy" in run.stdout
    assert "visible tests: 1/1 points" in run.stdout


def test_kernel_helpers_and_codecs_travel_with_the_pack(tmp_path):
    """A visible test that uses a kernel helper and a codec runs offline as in the sandbox."""
    import shutil

    from tests.sandbox.test_in_process_tests import COURSE, COURSE_NB
    from tests.support import notebook

    bundle = tmp_path / "bundle" / "testing" / "in-process-course"
    shutil.copytree(COURSE, bundle)
    tests = bundle / "tests" / "test_course.py"
    tests.write_text(tests.read_text() + "\npytestmark = pytest.mark.visible\n")
    nb = json.loads(notebook(COURSE_NB))
    data = starter_pack(bundle, nb)
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert {"in-process-course/tests/kernel_helpers/training.py", "in-process-course/codecs.json"} <= names
    zipfile.ZipFile(io.BytesIO(data)).extractall(tmp_path / "pack")
    root = tmp_path / "pack" / "in-process-course"
    run = subprocess.run([sys.executable, "check.py"], cwd=root, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "visible tests: 6/6 points" in run.stdout
