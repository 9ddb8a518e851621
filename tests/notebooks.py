"""Notebooks as learners' editors save them (Colab, JupyterLab with a conda kernel), and a small
bundle that grades them: shared by tests/grader/test_normalize.py and tests/sandbox/test_real_notebooks.py.

The notebooks are what these editors write, trimmed: Colab's metadata (``colab``, ``accelerator``,
its widget state without ``state``), cells without ids, widget and HTML outputs; JupyterLab's
conda kernelspec, cell ids, tags, timing metadata and outputs. They need the ``mi`` environment
(plotly, ipywidgets, tqdm, circuitsvis, matplotlib).
"""

from __future__ import annotations

import codecs
import json
import textwrap
from pathlib import Path
from typing import Any

# What the grading tests check in both notebooks' namespaces.
BUNDLE_TESTS = """
import pytest

pytestmark = pytest.mark.visible


@pytest.mark.points(2)
def test_square(student):
    assert student.square(3) == 9


@pytest.mark.points(1)
def test_the_notebook_knew_it_was_not_in_colab(student):
    assert student.IN_COLAB is False
    assert student.colab_in_sys_modules is False


@pytest.mark.points(1)
def test_every_cell_ran_to_its_end(student):
    assert student.reached == ["colab", "plot", "widgets", "progress", "end"]
    assert student.total == 4950
    assert student.calls == [2]
"""


def _lines(source: str) -> list[str]:
    """A cell's source as editors save it: a list of lines, each but the last ending in a newline."""
    lines = textwrap.dedent(source).strip("\n").split("\n")
    return [line + "\n" for line in lines[:-1]] + lines[-1:]


_SETUP = """
%%capture
%pip install transformer_lens circuitsvis
!wget -q https://raw.githubusercontent.com/example/course/main/data/tokens.txt
"""
_COLAB_CHECK = """
import sys

try:
    import google.colab

    IN_COLAB = True
except ImportError:
    IN_COLAB = False
colab_in_sys_modules = "google.colab" in sys.modules

if IN_COLAB:
    from google.colab import drive

    drive.mount("/content/drive")
    %cd /content/drive/MyDrive/course

# Written for Colab, left unguarded: harmless while grading.
from google.colab import output

output.enable_custom_widget_manager()
reached = ["colab"]
"""
_PLOTLY = """
import plotly.express as px

fig = px.imshow([[1.0, 0.0], [0.5, 0.5]], title="attention pattern")
fig.show()
reached.append("plot")
"""
_WIDGETS = """
from ipywidgets import IntSlider, interact

calls = []


@interact(k=IntSlider(min=1, max=5, value=2))
def show_k(k):
    calls.append(k)


reached.append("widgets")
"""
_TQDM = """
from tqdm.notebook import tqdm

total = 0
for i in tqdm(range(100)):
    total += i
reached.append("progress")
"""
_INPUT_GUARDED = """
if IN_COLAB:
    name = input("Your name: ")
else:
    name = "grader"
"""
_SOLUTION = """
def square(x):
    return x * x


reached.append("end")
"""


def _widget_view(model_id: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.jupyter.widget-view+json": {"model_id": model_id, "version_major": 2, "version_minor": 0},
            "text/plain": ["IntSlider(value=2, max=5, min=1)"],
        },
    }


def colab_notebook() -> bytes:
    """A notebook as Colab saves it after a run (nbformat 4.0, no cell ids, Colab's metadata)."""

    def code(source: str, cell_id: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {
            "cell_type": "code",
            "execution_count": 3 if outputs else None,
            "metadata": {"id": cell_id, "colab": {"base_uri": "https://localhost:8080/", "height": 542}},
            "outputs": outputs or [],
            "source": _lines(source),
        }

    nb = {
        "nbformat": 4,
        "nbformat_minor": 0,
        "metadata": {
            "colab": {"provenance": [], "gpuType": "T4", "toc_visible": True, "name": "induction_heads.ipynb"},
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
            "accelerator": "GPU",
            # Colab writes the widget models straight under the mime type: no "state", no versions
            # (GitHub's renderer refuses such notebooks; nbformat's schema does not look).
            "widgets": {
                "application/vnd.jupyter.widget-state+json": {
                    "4f0c1a2b3c4d": {
                        "model_module": "@jupyter-widgets/controls",
                        "model_name": "IntSliderModel",
                        "model_module_version": "1.5.0",
                        "state": {"value": 2, "min": 1, "max": 5},
                    }
                }
            },
        },
        "cells": [
            {"cell_type": "markdown", "metadata": {"id": "Xk2mQ"}, "source": _lines("# Induction heads\nRun setup.")},
            code(_SETUP, "setupCell"),
            code(_COLAB_CHECK, "colabCheck"),
            code(
                _PLOTLY,
                "plotCell",
                [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/html": ["<div>plotly figure</div>"]},
                    }
                ],
            ),
            code(_WIDGETS, "widgetCell", [_widget_view("4f0c1a2b3c4d")]),
            code(
                _TQDM,
                "tqdmCell",
                [
                    _widget_view("5a6b7c8d9e0f"),
                    {"output_type": "stream", "name": "stderr", "text": ["100%|##########| 100/100\n"]},
                ],
            ),
            code(_INPUT_GUARDED, "inputCell"),
            code(_SOLUTION, "solutionCell"),
        ],
    }
    return json.dumps(nb, indent=2).encode()


_LAB_SETUP = """
!pip install -r requirements.txt
%pip install transformer_lens
%matplotlib inline
"""
_LAB_COLAB_CHECK = """
import sys

import google.protobuf  # a real package in the google namespace, beside the Colab stand-ins

IN_COLAB = "google.colab" in sys.modules
colab_in_sys_modules = IN_COLAB
protobuf_version = google.protobuf.__version__
reached = ["colab"]
"""
_LAB_PLOTS = """
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import plotly.io as pio

pio.renderers.default = "browser"  # as when the notebook was written in VS Code
plt.plot([0, 1, 2], [0, 1, 4])
plt.show()
go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])).show()
open_figures = len(plt.get_fignums())
reached.append("plot")
"""
_LAB_WIDGETS = """
import circuitsvis as cv
import torch
from IPython.display import display
from ipywidgets import interact

calls = []
interact(lambda k=2: calls.append(k), k=(1, 5))
display(cv.attention.attention_patterns(tokens=["a", "b"], attention=torch.ones(2, 2, 2) / 2))
reached.append("widgets")
"""
_LAB_TQDM = """
from tqdm.auto import tqdm, trange

total = sum(tqdm(range(100), desc="sum"))
for _ in trange(3):
    pass
reached.append("progress")
"""
_LAB_ASK = """
answer = input("Continue? [y/n] ")
"""


def jupyterlab_notebook() -> bytes:
    """A notebook as JupyterLab saves it with a conda environment's kernel (nbformat 4.5)."""

    def code(source: str, index: int, outputs: list[dict[str, Any]] | None = None, **metadata: Any) -> dict[str, Any]:
        return {
            "cell_type": "code",
            "execution_count": index if outputs else None,
            "id": f"a1b2c3d4-{index:04d}",
            "metadata": {
                "execution": {
                    "iopub.execute_input": "2025-03-01T10:00:00.000000Z",
                    "iopub.status.busy": "2025-03-01T10:00:00.000000Z",
                    "iopub.status.idle": "2025-03-01T10:00:01.000000Z",
                    "shell.execute_reply": "2025-03-01T10:00:01.000000Z",
                },
                **metadata,
            },
            "outputs": outputs or [],
            "source": _lines(source),
        }

    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "conda-env-mi-py", "display_name": "Python [conda env:mi]", "language": "python"},
            "language_info": {
                "name": "python",
                "version": "3.11.9",
                "mimetype": "text/x-python",
                "file_extension": ".py",
                "codemirror_mode": {"name": "ipython", "version": 3},
                "pygments_lexer": "ipython3",
                "nbconvert_exporter": "python",
            },
            "toc-autonumbering": True,
        },
        "cells": [
            {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": _lines("# Induction heads")},
            code(
                _LAB_SETUP,
                1,
                [{"output_type": "stream", "name": "stdout", "text": ["Requirement already satisfied\n"]}],
            ),
            code(_LAB_COLAB_CHECK, 2, jupyter={"source_hidden": False}),
            code(
                _LAB_PLOTS,
                3,
                [
                    {
                        "output_type": "execute_result",
                        "execution_count": 3,
                        "metadata": {},
                        "data": {"text/plain": ["4"]},
                    }
                ],
                scrolled=True,
            ),
            code(_LAB_WIDGETS, 4),
            code(_LAB_TQDM, 5),
            code(_LAB_ASK, 6, tags=["skip-execution"]),
            code(_SOLUTION, 7, tags=["solution"]),
        ],
    }
    return json.dumps(nb, indent=1).encode()


def write_real_notebooks_bundle(root: Path, *, environment: str = "mi", slug: str = "real-notebooks") -> Path:
    """A bundle at ``root/testing/<slug>`` whose tests check what ``BUNDLE_TESTS`` says."""
    path = root / "testing" / slug
    (path / "tests").mkdir(parents=True)
    (path / "exercise.toml").write_text(
        f'slug = "{slug}"\ntitle = "{slug}"\npoints = 4\ngpu = "none"\nenvironment = "{environment}"\n'
        # The first cold imports of plotly, ipywidgets and circuitsvis beyond the preloaded ones.
        "[limits]\ntimeout_s = 180\ncell_timeout_s = 120\n"
    )
    (path / "README.md").write_text(f"# {slug}\n")
    (path / "tests" / "test_probe.py").write_text(BUNDLE_TESTS)
    return path


# Uploads that are not gradable notebooks, with the message each must get (whoever reads them).
MALFORMED: list[tuple[bytes, str]] = [
    (b"", "not valid JSON at line 1"),
    (codecs.BOM_UTF8, "not valid JSON at line 1"),
    (b"\xff\xfe{}", "not UTF-8 text"),
    (b"[1, 2]", "not a notebook"),
    (b'{"nbformat": 4, "cells": [' + b"[" * 100000 + b"]", "not valid JSON"),
    (json.dumps({"nbformat": "4", "cells": []}).encode(), "nbformat '4' is not supported"),
    (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "nbformat 3 is not supported"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}}).encode(), "no 'cells' list"),
    (
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [{"cell_type": "code", "source": 1, "metadata": {}, "outputs": [], "execution_count": None}],
            }
        ).encode(),
        "does not follow nbformat 4 at source: 1 is not valid",
    ),
    (
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}).encode(),
        "does not follow nbformat 4",
    ),
    (
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 4,
                "metadata": {},
                "cells": [{"cell_type": "markdown", "metadata": {}}],
            }
        ).encode(),
        "does not follow nbformat 4",
    ),
    (
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "sql"}]}).encode(),
        "does not follow nbformat 4 at cells/0",
    ),
    (
        json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": ["x = 1"]}).encode(),
        "does not follow nbformat 4 at cells/0",
    ),
]
