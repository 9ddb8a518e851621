"""Environments in real Docker: what an image holds, heavy imports outside the learner's clock, drift."""

from __future__ import annotations

import docker
import pytest

from grader.drift import check_environment
from grader.engine import EngineSettings, grade
from grader.result import Verdict
from sandbox import image
from tests.sandbox.support import copy_environments, define_environment
from tests.support import notebook, write_bundle

pytestmark = pytest.mark.docker


def test_each_image_lists_its_packages_and_describes_itself(sandbox_settings):
    mi = sandbox_settings.image_for("mi")
    listed = image.packages(mi)
    assert "transformer-lens==2.18.0" in {p.lower().replace("_", "-") for p in listed}
    assert any(p.lower().startswith("torch==2.13.0") for p in listed)
    assert image.image_description(mi)["name"] == "mi"
    assert not any(p.lower().startswith("transformer") for p in image.packages(sandbox_settings.image))


def test_heavy_imports_are_paid_before_the_learners_clock(make_bundle, sandbox_settings):
    # A cold `import transformer_lens` takes far longer than this cell limit on this machine.
    bundle = make_bundle(
        """
        import pytest

        @pytest.mark.points(1)
        def test_model_runs(student):
            assert student.n_layers == 1, "build the model from the config"
        """,
        environment="mi",
        limits={"cell_timeout_s": 4, "timeout_s": 8},
    )
    nb = notebook(
        """
        import transformer_lens, sae_lens, plotly.express as px
        from transformer_lens import HookedTransformer, HookedTransformerConfig
        cfg = HookedTransformerConfig(n_layers=1, d_model=8, n_ctx=4, d_head=4, n_heads=2, d_vocab=5, attn_only=True)
        model = HookedTransformer(cfg)
        _, cache = model.run_with_cache(__import__("torch").tensor([[0, 1, 2]]))
        n_layers = model.cfg.n_layers
        """
    )
    result = grade(bundle, nb, sandbox_settings)
    assert (result.verdict, result.score, result.max_score) == (Verdict.GRADED, 1.0, 1.0), result.to_dict()
    assert result.environment == "mi" and result.image == sandbox_settings.image_for("mi")
    assert result.timings["preload"] > 0 and result.timings["notebook"] < 4


def test_only_the_heavy_modules_an_exercise_imports_are_preloaded(make_bundle, sandbox_settings):
    tests = """
        import gc
        import sys
        import pytest

        @pytest.mark.points(1)
        def test_what_was_loaded(student):
            assert student.torch_loaded is {loaded}
            assert ("torch" in sys.modules) is {loaded}
            # What was loaded before the claim is out of the collector's sight, in both processes.
            assert student.frozen > 0 and gc.get_freeze_count() > 0
        """
    learner = notebook("import gc, sys, numpy\ntorch_loaded = 'torch' in sys.modules\nfrozen = gc.get_freeze_count()")
    for reference, loaded in (("import numpy as np", False), ("import torch", True)):
        bundle = make_bundle(tests.format(loaded=loaded))
        (bundle / "solution.ipynb").write_bytes(notebook(reference))
        result = grade(bundle, learner, sandbox_settings)
        assert (result.verdict, result.score) == (Verdict.GRADED, 1.0), result.to_dict()


def test_an_image_of_another_environment_is_never_used(make_bundle, sandbox_settings):
    bundle = make_bundle("def test_x(): pass\n", environment="mi")
    wrong = EngineSettings(image=sandbox_settings.image, environments={"mi": sandbox_settings.image})
    result = grade(bundle, notebook("x = 1"), wrong)
    assert result.verdict == Verdict.INTERNAL_ERROR and "is the 'base' environment" in result.output
    missing = EngineSettings(image=sandbox_settings.image, environments={"mi": "coursegrade-sandbox:mi-cpu-absent"})
    result = grade(bundle, notebook("x = 1"), missing)
    assert result.verdict == Verdict.INTERNAL_ERROR and "not built on this grader" in result.output


CLICK_TESTS = """
import pytest

@pytest.mark.points(1)
def test_width(student):
    assert student.width() == 80, "without a terminal the width falls back to 80 columns"
"""


def test_a_rebuilt_environment_whose_exercises_drift_is_not_tagged(tmp_path, sandbox_settings):
    """click.get_terminal_size exists in 8.0 and is gone in 8.1: the reference written for 8.0 drifts."""
    root = copy_environments(tmp_path)
    toml = 'description = "drift probe"\nparent = "base"\nheavy_modules = ["click"]\npreload_timeout_s = 30\n'
    define_environment(root, "drifty", toml, "click==8.0.4\n")
    exercises = tmp_path / "exercises"
    bundle = write_bundle(exercises, CLICK_TESTS, slug="terminal-width", environment="drifty")
    (bundle / "solution.ipynb").write_bytes(
        notebook("import click\ndef width():\n    return click.get_terminal_size()[0]")
    )
    reports = []

    def check(candidate: str) -> bool:
        reports.append(check_environment("drifty", candidate, exercises, settings=sandbox_settings))
        return reports[-1].ok

    first = image.build("drifty", root=root, check=check, log=lambda _: None)
    define_environment(root, "drifty", toml, "click==8.1.7\n")
    second = image.image_tag("drifty", root=root)
    with pytest.raises(image.ImageRejected, match="no longer pass"):
        image.build("drifty", root=root, check=check, log=lambda _: None)
    report = reports[-1]
    assert [d.slug for d in report.drifted] == ["terminal-width"] and report.drifted[0].score == 0
    assert "terminal-width" in report.to_text() and "0/1" in report.to_text()
    client = docker.from_env()
    assert client.images.get(first) and first != second
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(second)  # graders never see the drifted image
    client.images.remove(f"{second}-candidate")
