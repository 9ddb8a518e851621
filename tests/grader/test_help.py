import io
import json
import zipfile

from grader.bundle import load_bundle
from grader.help import MAX_HELP_CHARS, bundle_help
from grader.starter import starter_pack
from grader.template import make_template
from tests.support import EXERCISES, notebook, write_bundle


def _bundle(tmp_path, hints: dict[str, str] | None = None, walkthrough: str | None = None):
    path = write_bundle(tmp_path, "def test_x(): pass\n")
    (path / "solution.ipynb").write_bytes(notebook("import numpy as np", "def f(x):\n    return x + 1"))
    for name, text in (hints or {}).items():
        (path / "hints").mkdir(exist_ok=True)
        (path / "hints" / name).write_text(text)
    if walkthrough is not None:
        (path / "walkthrough.md").write_text(walkthrough)
    return load_bundle(path)


def test_hints_come_in_file_name_order_and_empty_ones_are_skipped(tmp_path):
    bundle = _bundle(tmp_path, {"02.md": "second", "01.md": "first", "03.md": "  \n", "notes.txt": "not a hint"})
    assert bundle_help(bundle.path).hints == ("first", "second")


def test_the_walkthrough_is_the_solution_or_else_the_reference_code(tmp_path):
    assert (
        bundle_help(_bundle(tmp_path / "a", walkthrough="Divide by the norm.").path).solution == "Divide by the norm."
    )
    reference = bundle_help(_bundle(tmp_path / "b").path).solution
    assert reference.startswith("The reference solution:") and "def f(x):\n    return x + 1" in reference
    assert (
        bundle_help(_bundle(tmp_path / "c", walkthrough="x" * (MAX_HELP_CHARS + 10)).path).solution
        == "x" * MAX_HELP_CHARS
    )


def test_help_is_never_in_the_template_or_the_starter_pack():
    bundle = load_bundle(EXERCISES / "numpy" / "normalize-rows")
    help_ = bundle_help(bundle.path)
    assert len(help_.hints) == 3 and "np.zeros_like(x)" in help_.solution
    template = make_template(json.loads((bundle.path / "solution.ipynb").read_text()))
    with zipfile.ZipFile(io.BytesIO(starter_pack(bundle.path, template))) as pack:
        names = pack.namelist()
        text = "".join(pack.read(n).decode("utf-8", "replace") for n in names)
    assert not any("hints/" in n or "walkthrough" in n for n in names), names
    assert help_.hints[1].strip() not in text and "np.zeros_like(x)" not in text
