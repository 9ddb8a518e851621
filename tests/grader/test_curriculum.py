"""The shipped curriculum's shape: modules, prerequisites, and enough well-tested exercises in each."""

import ast
import tomllib
from collections import Counter

from grader.bundle import load_bundle
from grader.validate import visible_test_files
from tests.support import EXERCISES

CURRICULUM = tomllib.loads((EXERCISES / "curriculum.toml").read_text())["modules"]
BUNDLES = [load_bundle(p.parent) for p in sorted(EXERCISES.glob("*/*/exercise.toml"))]


def _tests_in(path):
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]


def test_modules_form_a_dag_in_order_with_estimates_and_resources():
    seen = set()
    for module in CURRICULUM:
        assert set(module["requires"]) <= seen, f"{module['slug']} requires a module that comes later"
        assert module["estimated_hours"] > 0
        assert module["resources"] and all(r["url"].startswith("https://") for r in module["resources"])
        seen.add(module["slug"])
    assert len(seen) == len(CURRICULUM) >= 9


def test_enough_exercises_in_every_module():
    counts = Counter(b.module for b in BUNDLES)
    assert len(BUNDLES) >= 30
    assert {m["slug"] for m in CURRICULUM} == set(counts), "every module has exercises and every bundle a module"
    assert min(counts.values()) >= 3, counts


def test_every_exercise_has_visible_and_hidden_tests_and_a_statement():
    for bundle in BUNDLES:
        visible = visible_test_files(bundle)
        hidden = [p for p in bundle.test_files() if p not in visible]
        n_visible = sum(len(_tests_in(p)) for p in visible)
        n_hidden = sum(len(_tests_in(p)) for p in hidden)
        assert n_visible >= 1 and n_hidden >= 1 and n_visible + n_hidden >= 4, (bundle.slug, n_visible, n_hidden)
        readme = (bundle.path / "README.md").read_text()
        assert len(readme) > 200 and "`" in readme and "(" in readme, f"{bundle.slug}: README needs a signature"
        assert bundle.limits.timeout_s <= 120, bundle.slug


def test_listed_exercise_orders_name_the_modules_own_bundles():
    for module in CURRICULUM:
        own = {b.slug for b in BUNDLES if b.module == module["slug"]}
        listed = module.get("exercises", [])
        assert len(listed) == len(set(listed)) and set(listed) <= own, (module["slug"], set(listed) - own)


def test_modules_state_criteria_and_checkpoints_of_their_own():
    by_module = {m["slug"]: {b.slug for b in BUNDLES if b.module == m["slug"]} for m in CURRICULUM}
    for module in CURRICULUM:
        assert len(module["criteria"]) >= 1, f"{module['slug']} states no success criteria"
        assert module["checkpoints"], f"{module['slug']} has no checkpoint to test out with"
        assert set(module["checkpoints"]) <= by_module[module["slug"]], module["slug"]


def test_steps_cover_the_path_with_the_published_ranges():
    steps = tomllib.loads((EXERCISES / "curriculum.toml").read_text())["steps"]
    placed = [slug for step in steps for slug in step["modules"]]
    assert sorted(placed) == sorted(m["slug"] for m in CURRICULUM), "every module in exactly one step"
    assert {s["slug"]: s["published_hours"] for s in steps} == {
        "ml-prerequisites": [10, 40],
        "transformer-implementation": [10, 20],
        "interpretability-tooling": [10, 20],
    }
