"""grader.normalize: notebooks as Colab, JupyterLab and VS Code save them, made gradable (no Docker)."""

from __future__ import annotations

import codecs
import dataclasses
import json
from typing import Any

import nbformat
import pytest

from grader.limits import DEFAULT_LIMITS
from grader.normalize import INSTALL, SKIPPED_MARK, PreparedNotebook, prepare
from grader.notebook import InvalidNotebook
from tests.notebooks import MALFORMED, colab_notebook, jupyterlab_notebook
from tests.support import notebook


def _prepare(nb: dict[str, Any] | bytes) -> PreparedNotebook:
    return prepare(nb if isinstance(nb, bytes) else json.dumps(nb).encode(), DEFAULT_LIMITS)


def _sources(prepared: PreparedNotebook) -> list[str]:
    return [c["source"] for c in prepared.notebook["cells"]]


def test_a_plain_notebook_is_taken_as_it_is_with_nothing_to_report():
    prepared = _prepare(notebook("import numpy as np", "x = np.ones(3)"))
    assert prepared.changes == ()
    assert _sources(prepared) == ["import numpy as np", "x = np.ones(3)"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        prepared.changes = ("x",)  # type: ignore[misc]


def test_a_colab_notebook_is_accepted_and_every_change_is_listed():
    raw = colab_notebook()
    prepared = _prepare(raw)
    nb = prepared.notebook
    nbformat.validate(nb, version=4)
    assert nb["metadata"] == {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
    }
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None and c["metadata"] == {} for c in code)
    assert all(c["metadata"] == {} for c in nb["cells"])
    changes = prepared.changes
    text = "\n".join(changes)
    # The setup cell: the install and download lines, each with its cell, line and reason.
    assert f"Cell 1, line 2: `%pip install transformer_lens circuitsvis` was skipped: {INSTALL}." in changes
    assert any(c.startswith("Cell 1, line 3: `!wget -q https://") and "no network" in c for c in changes)
    assert "saved outputs of 3 cell(s) were dropped" in text
    assert "widget state (metadata.widgets) was dropped" in text
    # Colab's kernelspec is python3: nothing to say about it; no BOM either.
    assert "kernel" not in text and "BOM" not in text
    # The learner's code is untouched, line for line.
    setup = nb["cells"][1]["source"].split("\n")
    assert setup[0] == "%%capture"
    assert setup[1] == f"pass  {SKIPPED_MARK} %pip install transformer_lens circuitsvis"
    assert len(setup) == len(json.loads(raw)["cells"][1]["source"])


def test_a_jupyterlab_notebook_with_a_conda_kernel_and_a_bom():
    prepared = _prepare(codecs.BOM_UTF8 + jupyterlab_notebook())
    assert prepared.changes[0] == "The file began with a UTF-8 byte-order mark (BOM); it was ignored."
    assert prepared.changes[1] == (
        "The notebook was saved for the kernel `conda-env-mi-py` (`Python [conda env:mi]`); "
        "it was run with this exercise's Python 3 kernel and its packages."
    )
    assert prepared.notebook["metadata"]["kernelspec"]["name"] == "python3"
    nbformat.validate(prepared.notebook, version=4)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"kernelspec": {"name": "python3", "display_name": "Python 3"}}, None),
        ({"kernelspec": {"name": "python", "display_name": ".venv (Python 3.11.4)", "language": "python"}}, None),
        ({"kernelspec": {"name": "ir", "display_name": "R", "language": "R"}}, "saved for the language `R`"),
        ({"language_info": {"name": "julia"}}, "saved for the language `julia`"),
        # Malformed kernel metadata is the editor's business: replaced, not refused.
        ({"kernelspec": {"display_name": "no name"}, "language_info": "python"}, None),
        ({"kernelspec": {"name": "my-env\u0000\n" + "x" * 200, "display_name": "env"}}, "saved for the kernel `my-env"),
    ],
)
def test_any_kernelspec_runs_with_the_exercises_python(metadata, expected):
    nb = json.loads(notebook("x = 1"))
    nb["metadata"] = metadata
    prepared = _prepare(nb)
    assert prepared.notebook["metadata"]["kernelspec"]["name"] == "python3"
    if expected is None:
        assert prepared.changes == ()
    else:
        (change,) = prepared.changes
        assert expected in change and "Python 3 kernel" in change
        assert "\u0000" not in change and "\n" not in change and len(change) < 300


def test_list_sources_are_joined_and_cells_get_ids():
    nb = {
        "nbformat": 4,
        "nbformat_minor": 2,  # before cell ids; VS Code and old Jupyter save this
        "metadata": {"vscode": {"interpreter": {"hash": "abc"}}},
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"], "attachments": {}},
            {
                "cell_type": "code",
                "metadata": {"scrolled": "maybe"},
                "execution_count": 1,
                "outputs": [],
                "source": ["x = 1\n", "y = 2"],
            },
            {"cell_type": "raw", "metadata": {}, "source": []},
            {"cell_type": "code", "id": "same", "metadata": {}, "execution_count": None, "outputs": [], "source": ""},
            {"cell_type": "code", "id": "same", "metadata": {}, "execution_count": None, "outputs": [], "source": ""},
        ],
    }
    prepared = _prepare(nb)
    assert _sources(prepared) == ["# Title\ntext", "x = 1\ny = 2", "", "", ""]
    ids = [c["id"] for c in prepared.notebook["cells"]]
    assert len(set(ids)) == 5 and ids[3] == "same"
    assert prepared.notebook["nbformat_minor"] == 5
    assert prepared.changes == ()  # ids, metadata and list sources are no news to the learner
    nbformat.validate(prepared.notebook, version=4)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("%pip install transformer_lens==2.18.0", "environment are installed"),
        ("!pip install -q circuitsvis", "environment are installed"),
        ("!pip3 install einops", "environment are installed"),
        ("!!pip list", "environment are installed"),
        ("!{sys.executable} -m pip install plotly", "environment are installed"),
        ("!python -m pip install --upgrade pip", "environment are installed"),
        ("%conda install -y numpy", "environment are installed"),
        ("!conda install pytorch -c pytorch", "environment are installed"),
        ("!sudo apt-get -qq install graphviz", "environment are installed"),
        ("!apt install -y ffmpeg", "environment are installed"),
        ("!uv pip install sae-lens", "environment are installed"),
        ("pip install numpy", "environment are installed"),  # IPython's automagic
        ("!wget https://example.com/data.zip", "no network"),
        ("!curl -L -o weights.pt https://example.com/weights.pt", "no network"),
        ("!git clone https://github.com/TransformerLensOrg/TransformerLens", "no network"),
        ("!cd /content && git clone https://github.com/x/y && pip install -e y", "no network"),
        ("!unzip -q data.zip", "nothing to unpack"),
        ("%matplotlib widget", "interactive plot backends"),
    ],
)
def test_install_and_download_lines_are_skipped_in_place(line, reason):
    prepared = _prepare(notebook(f"x = 1\n{line}\ny = 2"))
    (change,) = prepared.changes
    assert change.startswith("Cell 0, line 2: `") and reason in change
    assert _sources(prepared) == [f"x = 1\npass  {SKIPPED_MARK} {line}\ny = 2"]


@pytest.mark.parametrize(
    "line",
    [
        "%matplotlib inline",
        "%load_ext autoreload",
        "%autoreload 2",
        "!ls data",
        "!nvidia-smi",
        "%time x = 1",
        "x = 5 % 3",
        "pip = 3",
        "print('!pip install x')",
        "# %pip install transformer_lens",
    ],
)
def test_other_magics_and_code_run_as_written(line):
    prepared = _prepare(notebook(f"x = 1\n{line}"))
    assert prepared.changes == ()
    assert _sources(prepared) == [f"x = 1\n{line}"]


def test_magics_in_an_if_block_become_pass_so_the_block_stays_valid():
    source = (
        "import sys\n"
        "IN_COLAB = 'google.colab' in sys.modules\n"
        "if IN_COLAB:\n"
        "    %pip install transformer_lens \\\n"
        "        circuitsvis\n"
        "    !wget https://example.com/x.txt\n"
        "print('done')"
    )
    prepared = _prepare(notebook(source))
    out = _sources(prepared)[0]
    lines = out.split("\n")
    assert len(lines) == 7 and lines[0] == "import sys" and lines[-1] == "print('done')"
    assert lines[3].startswith(f"    pass  {SKIPPED_MARK} %pip install transformer_lens")
    assert not lines[3].endswith("\\")
    assert lines[4] == f"{SKIPPED_MARK} circuitsvis"
    assert lines[5].startswith("    pass  ")
    compile(out, "<cell>", "exec")  # plain Python now
    assert [c.split(":")[0] for c in prepared.changes] == ["Cell 0, line 4", "Cell 0, line 6"]


def test_shell_cells_are_not_run():
    prepared = _prepare(
        notebook("%%bash\npip install x\necho done", "%%sh\nls", "%%script bash\necho", "%%script python3\nprint(1)")
    )
    sources = _sources(prepared)
    assert sources[0] == "# %%bash\n# pip install x\n# echo done"
    assert sources[1] == "# %%sh\n# ls"
    assert sources[2] == "# %%script bash\n# echo"
    assert sources[3] == "%%script python3\nprint(1)"
    heads = [c.split(" was")[0] for c in prepared.changes]
    assert heads == ["Cell 0 (`%%bash`)", "Cell 1 (`%%sh`)", "Cell 2 (`%%script bash`)"]
    assert all("shell cells do not run while grading" in c for c in prepared.changes)


def test_cell_magics_with_other_bodies_are_left_alone():
    source = "%%writefile helper.py\n!pip install x\ndef f():\n    return 1"
    prepared = _prepare(notebook(source, "%%html\n<b>hi</b>"))
    assert prepared.changes == ()
    assert _sources(prepared) == [source, "%%html\n<b>hi</b>"]


@pytest.mark.parametrize("tag", ["skip-grading", "skip-execution"])
def test_tagged_cells_are_not_run(tag):
    nb = json.loads(notebook("x = 1", "name = input('your name?')\nprint(name)", "y = 2"))
    nb["cells"][1]["metadata"] = {"tags": ["solution", tag]}
    prepared = _prepare(nb)
    assert prepared.changes == (f"Cell 1 was not run: it is tagged {tag!r}.",)
    assert _sources(prepared) == ["x = 1", "# name = input('your name?')\n# print(name)", "y = 2"]


def test_markdown_is_never_touched():
    nb = json.loads(notebook("x = 1"))
    text = "Run `!pip install x` first:\n!pip install x"
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": text})
    prepared = _prepare(nb)
    assert prepared.changes == ()
    assert _sources(prepared)[0] == text


def test_many_changes_are_capped():
    prepared = _prepare(notebook("\n".join(f"!pip install pkg{i}" for i in range(100))))
    assert len(prepared.changes) == 41
    assert prepared.changes[-1] == "... and 60 more lines or cells skipped the same way."


@pytest.mark.parametrize(("data", "message"), MALFORMED)
def test_malformed_notebooks_are_refused_with_the_usual_messages(data, message):
    with pytest.raises(InvalidNotebook, match=message):
        _prepare(data)


def test_the_bundles_limits_apply():
    small = DEFAULT_LIMITS.override({"max_cells": 2, "max_notebook_kb": 1})
    with pytest.raises(InvalidNotebook, match="3 cells, above the limit of 2"):
        prepare(notebook("a = 1", "b = 2", "c = 3"), small)
    with pytest.raises(InvalidNotebook, match="above the limit of 1 KB"):
        prepare(codecs.BOM_UTF8 + notebook("a = '" + "x" * 2000 + "'"), small)


def test_the_command_line_prints_what_was_changed(capsys):
    from course.cli import _print_result

    changes = prepare(codecs.BOM_UTF8 + notebook("!pip install einops\nx = 1"), DEFAULT_LIMITS).changes
    result = {"verdict": "graded", "output": "", "tests": [], "cells": [], "notebook_changes": list(changes)}
    _print_result({"exercise": "probe", "status": "graded", "score": 1.0, "max_score": 1.0, "result": result})
    out = capsys.readouterr().out
    assert "We adjusted your notebook before running it:\n  - The file began with a UTF-8 byte-order mark" in out
    assert "  - Cell 0, line 1: `!pip install einops` was skipped" in out
    _print_result({"exercise": "probe", "status": "graded", "score": 1.0, "max_score": 1.0, "result": {}})
    assert "adjusted" not in capsys.readouterr().out


def test_lone_surrogates_are_replaced_and_listed():
    raw = notebook('s = "\ud800"  # \udfff'.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass"))
    assert b"\\ud800" in raw  # JSON may spell it; no runtime can use it
    prepared = prepare(raw, DEFAULT_LIMITS)
    source = prepared.notebook["cells"][0]["source"]
    source.encode("utf-8")  # now valid for every runtime
    assert source.count("\ufffd") == 2
    assert any("unpaired UTF-16 surrogates" in change for change in prepared.changes)
