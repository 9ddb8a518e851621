"""Environment definitions, image tags and the engine's choice of image (no containers started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.bundle import BundleError, load_bundle
from grader.engine import EngineSettings, EnvironmentUnavailable, grade
from grader.result import Verdict
from sandbox import environment, image
from tests.sandbox.support import copy_environments, define_environment
from tests.support import notebook, write_bundle


def test_shipped_environments_load_and_chain():
    assert environment.available() == ["base", "mi"]
    mi = environment.load("mi")
    assert mi.parent == "base" and "transformer_lens" in mi.heavy_modules
    assert [e.name for e in environment.chain("mi")] == ["base", "mi"]
    pins = mi.pins()
    assert pins["transformer-lens"] == "2.18.0" and pins["sae-lens"] == "6.54.12"
    # The lock keeps numpy and the base pins: transformer_lens 2.x needs numpy<2.
    assert pins["numpy"] == environment.load("base").pins()["numpy"] == "1.26.4"
    assert "torch" not in pins  # the variant (CPU or CUDA build) decides torch


def test_unknown_and_malformed_environments_are_named(tmp_path: Path):
    with pytest.raises(environment.UnknownEnvironment, match=r"unknown environment 'nope' \(known: base, mi\)"):
        environment.load("nope")
    root = copy_environments(tmp_path)
    define_environment(root, "bad", "parent = 'base'\nheavy_modules = 'torch'\n", "x==1\n")
    with pytest.raises(environment.DefinitionError, match="heavy_modules must be a list"):
        environment.load("bad", root)
    define_environment(root, "loose", "parent = 'base'\n", "numpy>=1\n")
    with pytest.raises(environment.DefinitionError, match="pinned as name==version"):
        environment.load("loose", root).pins()
    define_environment(root, "loop", "parent = 'loop2'\n", "")
    define_environment(root, "loop2", "parent = 'loop'\n", "")
    with pytest.raises(environment.DefinitionError, match="cycle"):
        environment.chain("loop", root)


def test_tags_follow_their_inputs_only(tmp_path: Path):
    root = copy_environments(tmp_path)
    assert image.image_tag("mi", root=root) == image.image_tag("mi")
    base_packages, mi_packages, mi_tag = (
        image.packages_tag("base", root=root),
        image.packages_tag("mi", root=root),
        image.image_tag("mi", root=root),
    )
    lock = root / "mi" / "requirements.txt"
    lock.write_text(lock.read_text().replace("plotly==7.1.0", "plotly==7.0.0"))
    # A child's pin changes the child's images, never its parent's.
    assert image.packages_tag("base", root=root) == base_packages
    assert image.packages_tag("mi", root=root) != mi_packages and image.image_tag("mi", root=root) != mi_tag
    # Its heavy modules change what the image describes (and so its tag), not its packages.
    repinned_packages, repinned_tag = image.packages_tag("mi", root=root), image.image_tag("mi", root=root)
    toml = root / "mi" / "environment.toml"
    toml.write_text(toml.read_text().replace('"fancy_einsum"]', '"fancy_einsum", "sklearn"]'))
    assert image.image_tag("mi", root=root) != repinned_tag
    assert image.packages_tag("mi", root=root) == repinned_packages
    assert image.image_tag("base", "cpu") != image.image_tag("base", "cuda")


def test_bundles_name_their_environment_and_default_to_base(tmp_path: Path):
    assert load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", slug="plain")).environment == "base"
    assert (
        load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", slug="lens", environment="mi")).environment == "mi"
    )
    with pytest.raises(BundleError, match="environment 'Not Valid'"):
        load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", slug="bad", environment="Not Valid"))


def test_settings_name_an_image_per_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_IMAGE", "base:tag")
    monkeypatch.setenv("SANDBOX_IMAGE_MI", "mi:tag")
    settings = EngineSettings.from_env()
    assert settings.images == {"base": "base:tag", "mi": "mi:tag"}
    monkeypatch.delenv("SANDBOX_IMAGE_MI")
    assert EngineSettings.from_env().image_for("mi") == image.image_tag("mi")
    monkeypatch.setenv("SANDBOX_ENVIRONMENTS", "base")
    with pytest.raises(EnvironmentUnavailable, match="has only base"):
        EngineSettings.from_env().image_for("mi")


def test_a_worker_without_the_environment_refuses_clearly(tmp_path: Path):
    bundle = write_bundle(tmp_path, "def test_x(): pass\n", environment="mi")
    result = grade(bundle, notebook("x = 1"), EngineSettings(image="never-started:tag"))
    assert result.verdict == Verdict.INTERNAL_ERROR and result.score == 0
    assert "'mi' environment" in result.output and "must be graded by a worker that has 'mi'" in result.output
    assert result.environment == "mi" and result.image == ""


def test_image_description_is_parsed_strictly():
    parsed = environment.ImageEnvironment.parse({"name": "mi", "heavy_modules": ["torch"], "preload_timeout_s": 60})
    assert parsed.heavy_modules == ("torch",) and parsed.preload_timeout_s == 60.0
    for bad in ({}, {"name": "x", "heavy_modules": ["os; rm"]}, {"name": "x", "preload_timeout_s": float("inf")}):
        with pytest.raises(environment.DefinitionError):
            environment.ImageEnvironment.parse(bad)


def test_codecs_are_declared_by_environments_and_bundles(tmp_path: Path):
    mi = environment.load("mi")
    assert [c.type for c in mi.codecs] == ["transformer_lens.FactoredMatrix:FactoredMatrix"]
    assert image.description(mi)["codecs"] == [c.as_dict() for c in mi.codecs]
    parsed = environment.ImageEnvironment.parse(image.description(mi))
    assert parsed.codecs == mi.codecs
    root = copy_environments(tmp_path)
    define_environment(root, "bad", 'parent = "base"\n[[codec]]\ntype = "no-colon"\nfields = ["a"]\n', "")
    with pytest.raises(environment.DefinitionError, match="module:QualName"):
        environment.load("bad", root)
    path = write_bundle(tmp_path, "def test_x(): pass\n", slug="frac")
    (path / "exercise.toml").write_text(
        (path / "exercise.toml").read_text() + '[[codec]]\ntype = "fractions:Fraction"\nfields = ["numerator"]\n'
    )
    assert [c.fields for c in load_bundle(path).codecs] == [("numerator",)]
    (path / "exercise.toml").write_text((path / "exercise.toml").read_text().replace('"numerator"', "1"))
    with pytest.raises(BundleError, match="codec 1: fields"):
        load_bundle(path)
