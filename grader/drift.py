"""Drift: does every exercise of an environment still pass with a rebuilt image of it?

A new pin (or a new upstream build behind an unchanged one) can change what a library computes.
Before a rebuilt environment's image is used for grading, the reference notebook of every bundle
that runs in it is graded in the candidate image; any that no longer gets full marks is reported.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.bundle import Bundle, BundleError, load_bundle
from grader.engine import DEFAULT_ENVIRONMENT, EngineSettings, grade


@dataclass(frozen=True)
class Drifted:
    slug: str
    path: str
    score: float
    max_score: float
    verdict: str
    message: str


@dataclass
class DriftReport:
    environment: str
    image: str
    checked: list[str] = field(default_factory=list)
    drifted: list[Drifted] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifted

    def to_text(self) -> str:
        head = f"drift check of {self.environment!r} in {self.image}: {len(self.checked)} exercise(s) checked"
        if self.ok:
            return f"{head}, every reference still gets full marks"
        lines = [f"{head}, {len(self.drifted)} no longer get full marks:"]
        for d in self.drifted:
            lines.append(f"  {d.slug} ({d.path}): {d.score:g}/{d.max_score:g}, {d.verdict}. {d.message}".rstrip())
        return "\n".join(lines)


def bundles_in(exercises: Path) -> list[Bundle]:
    """Every bundle under ``exercises`` (``<module>/<slug>/exercise.toml``) that loads."""
    found = []
    for meta in sorted(exercises.glob("*/*/exercise.toml")):
        try:
            found.append(load_bundle(meta.parent))
        except BundleError:
            continue  # validation reports a broken bundle; drift is about the image
    return found


def environments_in_use(exercises: Path) -> list[str]:
    """The environments the bundles under ``exercises`` run in, base first."""
    names = {bundle.environment for bundle in bundles_in(exercises)} | {DEFAULT_ENVIRONMENT}
    return sorted(names, key=lambda n: (n != DEFAULT_ENVIRONMENT, n))


def check_environment(
    environment: str,
    image: str,
    exercises: Path,
    *,
    settings: EngineSettings | None = None,
    jobs: int = 2,
) -> DriftReport:
    """Grade the reference of every bundle of ``environment`` under ``exercises`` in ``image``."""
    base = settings or EngineSettings.from_env()
    if environment == DEFAULT_ENVIRONMENT:
        candidate = EngineSettings(image=image, gpu_devices=(), environments=base.environments)
    else:
        candidate = EngineSettings(
            image=base.image, gpu_devices=(), environments={**base.environments, environment: image}
        )
    bundles = [b for b in bundles_in(exercises) if b.environment == environment]
    report = DriftReport(environment=environment, image=image, checked=[b.slug for b in bundles])

    def one(bundle: Bundle) -> Drifted | None:
        result = grade(bundle, (bundle.path / "solution.ipynb").read_bytes(), candidate)
        if result.score >= result.max_score > 0:
            return None
        failing = [t.name for t in result.tests if t.status != "passed"]
        message = result.output or ""
        if failing:
            message = (message + f" Failing: {', '.join(failing[:8])}.").strip()
        return Drifted(bundle.slug, str(bundle.path), result.score, result.max_score, str(result.verdict), message)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        report.drifted = [d for d in pool.map(one, bundles) if d is not None]
    return report
