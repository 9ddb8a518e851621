from pathlib import Path

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
        write_bundle(tmp_path, "def test_x(): pass\n"),
        "%%bash\nimport torch ( not python",
        "%%writefile notes.py\nimport scipy",
        "import numpy",
    )
    assert imported_modules(bundle) == {"numpy"}


def test_python_body_cell_magics_are_read(tmp_path):
    bundle = _with_reference(
        write_bundle(tmp_path, "def test_x(): pass\n"),
        "%%time\nimport torch",
        "%%capture out\nimport einops\n%time import scipy",
        "%%timeit -n 1 -r1 import numpy\nimport math",
        "%%prun -s cumulative -q\nimport pandas",
    )
    assert imported_modules(bundle) == {"torch", "einops", "scipy", "numpy", "math", "pandas"}


def test_line_magics_that_run_python_are_read(tmp_path):
    bundle = _with_reference(
        write_bundle(tmp_path, "def test_x(): pass\n"),
        "%time import torch\n%timeit -n10 -qo import numpy",
        "if True:\n    %timeit -n 3 import einops\n    %prun -l 5 -r import scipy.linalg",
        "%time --no-raise-error import pandas\n%time -x\n%time\n%who import nothing",
    )
    assert imported_modules(bundle) == {"torch", "numpy", "einops", "scipy", "pandas"}


def test_import_calls_with_a_constant_name_are_read(tmp_path):
    tests = """
        import importlib
        import pytest

        sae_lens = pytest.importorskip("sae_lens")
        plotly = importlib.import_module("plotly.express")
        name = "computed"
        importlib.import_module(name)
        importlib.import_module(".sibling", package="kernel_helpers")
    """
    bundle = _with_reference(
        write_bundle(tmp_path, tests),
        "torch = __import__('torch')\nfrom importlib import import_module\nimport_module(name='einops')",
    )
    assert imported_modules(bundle) == {"importlib", "pytest", "sae_lens", "plotly", "torch", "einops"}


def test_unreadable_code_means_every_heavy_module(tmp_path):
    no_reference = load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", slug="bare"))
    broken = _with_reference(write_bundle(tmp_path, "def test_x(): pass\n", slug="broken"), "def f(:\n    pass")
    garbage = write_bundle(tmp_path, "def test_x(): pass\n", slug="garbage")
    (garbage / "solution.ipynb").write_text("{not json")
    not_utf8 = write_bundle(tmp_path, "def test_x(): pass\n", slug="not-utf8")
    (not_utf8 / "tests" / "test_probe.py").write_bytes(b"import numpy\nx = '\xff'\n")
    bad_notebook = write_bundle(tmp_path, "import numpy\n", slug="bad-notebook")
    (bad_notebook / "solution.ipynb").write_bytes(b'{"cells": ["\xff"]}')
    bundles = (
        no_reference,
        broken,
        load_bundle(garbage),
        _with_reference(not_utf8, "x = 1"),
        load_bundle(bad_notebook),
    )
    for bundle in bundles:
        assert imported_modules(bundle) is None
        assert preload_for(BASE, imported_modules(bundle)) == BASE


def test_a_declared_encoding_is_honoured(tmp_path):
    path = write_bundle(tmp_path, "def test_x(): pass\n")
    (path / "tests" / "test_probe.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\nimport numpy\n")
    assert imported_modules(_with_reference(path, "x = 1")) == {"numpy"}


def test_a_file_that_cannot_be_read_means_every_heavy_module(tmp_path, monkeypatch):
    path = write_bundle(tmp_path, "import numpy\n")
    bundle = _with_reference(path, "import torch")
    unreadable = path / "tests" / "test_probe.py"
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self == unreadable:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert imported_modules(bundle) is None
    monkeypatch.undo()
    # A failed read is not remembered: once the file can be read, the next grading reads it.
    assert imported_modules(bundle) == {"numpy", "torch"}


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
    # Every module the exercise's reference and tests import, and nothing else.
    assert imported_modules(numpy_only) == {"numpy", "pytest"}
