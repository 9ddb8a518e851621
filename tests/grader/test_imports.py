import json

from grader.bundle import load_bundle
from grader.imports import imported_modules, preload_for
from tests.support import EXERCISES, notebook, write_bundle

BASE = ("numpy", "torch")
MI = ("numpy", "torch", "transformer_lens", "sae_lens", "plotly")


def _with_reference(path, *cells):
    (path / "solution.ipynb").write_bytes(notebook(*cells))
    return load_bundle(path)


def test_reference_tests_and_data_files_are_read(tmp_path):
    path = write_bundle(
        tmp_path,
        "import numpy as np\nfrom collections import Counter\n",
        data={"helpers.py": b"import einops.layers\n", "table.csv": b"import torch\n"},
    )
    (path / "tests" / "kernel_helpers").mkdir()
    (path / "tests" / "kernel_helpers" / "probe.py").write_text("from scipy.linalg import svd\nfrom . import x\n")
    bundle = _with_reference(path, "%matplotlib inline\nimport math, os.path\n!pip install thing", "x = 1")
    assert imported_modules(bundle) == {"numpy", "collections", "einops", "scipy", "math", "os"}


def test_imports_inside_functions_and_solutions_count(tmp_path):
    bundle = _with_reference(
        write_bundle(tmp_path, "def test_x(): pass\n"),
        "def f(x):\n    # BEGIN SOLUTION\n    import torch.nn.functional as F\n    # END SOLUTION\n    return x",
    )
    assert imported_modules(bundle) == {"torch"}


def test_cell_magics_are_skipped(tmp_path):
    bundle = _with_reference(
        write_bundle(tmp_path, "def test_x(): pass\n"), "%%bash\nimport torch ( not python", "import numpy"
    )
    assert imported_modules(bundle) == {"numpy"}


def test_unreadable_code_means_every_heavy_module(tmp_path):
    no_reference = load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", slug="bare"))
    broken = _with_reference(write_bundle(tmp_path, "def test_x(): pass\n", slug="broken"), "def f(:\n    pass")
    garbage = write_bundle(tmp_path, "def test_x(): pass\n", slug="garbage")
    (garbage / "solution.ipynb").write_text("{not json")
    for bundle in (no_reference, broken, load_bundle(garbage)):
        assert imported_modules(bundle) is None
        assert preload_for(BASE, imported_modules(bundle)) == BASE


def test_preload_is_the_environments_list_up_to_the_last_module_used():
    assert preload_for(BASE, frozenset({"numpy", "pytest"})) == ("numpy",)
    assert preload_for(BASE, frozenset({"torch"})) == BASE
    assert preload_for(BASE, frozenset({"math", "re"})) == ()
    assert preload_for(MI, frozenset({"torch", "transformer_lens"})) == ("numpy", "torch", "transformer_lens")
    assert preload_for(("numpy", "matplotlib.pyplot"), frozenset({"matplotlib"})) == ("numpy", "matplotlib.pyplot")


def test_a_changed_file_is_read_again(tmp_path):
    path = write_bundle(tmp_path, "import numpy\n")
    bundle = _with_reference(path, "x = 1")
    assert imported_modules(bundle) == {"numpy"}
    (path / "tests" / "test_probe.py").write_text("import torch\nimport numpy  # and a longer file\n")
    assert imported_modules(bundle) == {"numpy", "torch"}


def test_shipped_exercises_preload_what_they_use():
    numpy_only = load_bundle(EXERCISES / "numpy" / "normalize-rows")
    lens = load_bundle(EXERCISES / "mi-tooling" / "activation-cache")
    saes = load_bundle(EXERCISES / "superposition-saes" / "sparse-autoencoder")
    assert preload_for(BASE, imported_modules(numpy_only)) == ("numpy",)
    assert preload_for(MI, imported_modules(lens)) == ("numpy", "torch", "transformer_lens")
    assert "sae_lens" in preload_for(MI, imported_modules(saes))
    reference = json.loads((numpy_only.path / "solution.ipynb").read_text())
    assert any("import numpy" in "".join(c["source"]) for c in reference["cells"] if c["cell_type"] == "code")
