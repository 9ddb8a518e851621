"""``bundle validate``: everything that must hold before a bundle is published, as one report.

A bundle is valid when its metadata parses and names a module of curriculum.toml, its template
can be made, every test has points, its data files are within limits, no hidden test text is
reachable from the template or the data, the reference notebook gets full marks in the real
sandbox, the template gets less, and every test finishes well inside its time limit.
"""

from __future__ import annotations

import ast
import json
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from grader.bundle import Bundle, BundleError, load_bundle
from grader.engine import EngineSettings, grade
from grader.result import GradeResult, Verdict
from grader.template import TemplateError, make_template
from sandbox.runtime.student import HELPERS_DIR

MAX_DATA_MB = 20
# A hidden-test line shorter than this is too generic to count as leaked (an import, say).
MIN_LEAK_CHARS = 24
# A test using more than this share of its time limit on the reference is too close to flaky.
SLOW_SHARE = 0.5


@dataclass
class Check:
    name: str
    ok: bool
    message: str = ""
    warning: bool = False


@dataclass
class ValidationReport:
    path: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    reference: dict[str, Any] | None = None
    template: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok or c.warning for c in self.checks)

    def add(self, name: str, ok: bool, message: str = "", *, warning: bool = False) -> bool:
        self.checks.append(Check(name, ok, message, warning=warning and not ok))
        return ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "seconds": round(self.seconds, 2),
            "checks": [asdict(c) for c in self.checks],
            "reference": self.reference,
            "template": self.template,
        }

    def to_text(self) -> str:
        lines = [f"bundle {self.path}"]
        for check in self.checks:
            mark = "ok  " if check.ok else ("warn" if check.warning else "FAIL")
            lines.append(f"  [{mark}] {check.name}" + (f": {check.message}" if check.message else ""))
        if self.reference and self.reference.get("image"):
            preload = self.reference.get("preload_s")
            imports = f", its heavy imports took {preload:.1f} s before the clock" if preload else ""
            lines.append(f"  graded in {self.reference['environment']} ({self.reference['image']}{imports})")
        lines.append(f"{'valid' if self.ok else 'INVALID'} ({self.seconds:.1f} s)")
        return "\n".join(lines)


def visible_test_files(bundle: Bundle) -> list[Path]:
    """Test files marked visible as a whole (``pytestmark = pytest.mark.visible``): shipped to learners."""
    return [p for p in bundle.test_files() if _module_marked_visible(p.read_text(encoding="utf-8"))]


def _module_marked_visible(source: str) -> bool:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            return "visible" in ast.unparse(node.value)
    return False


def validate(
    path: str | Path,
    *,
    settings: EngineSettings | None = None,
    curriculum: Path | None = None,
    run_sandbox: bool = True,
) -> ValidationReport:
    """Check the bundle at ``path``; with ``run_sandbox`` it is graded twice in the real sandbox."""
    started = time.monotonic()
    path = Path(path).resolve()
    report = ValidationReport(str(path))
    try:
        bundle = load_bundle(path)
    except BundleError as exc:
        report.add("metadata", False, str(exc))
        report.seconds = time.monotonic() - started
        return report
    report.add("metadata", True, f"{bundle.module}/{bundle.slug}, {bundle.points:g} points, gpu {bundle.gpu}")
    _check_environment(report, bundle)
    _check_module(report, bundle, curriculum or path.parent.parent / "curriculum.toml")
    template = _check_template(report, bundle)
    _check_tests_static(report, bundle)
    _check_data(report, bundle)
    if template is not None:
        _check_no_leaks(report, bundle, template)
    if run_sandbox and template is not None and (bundle.path / "solution.ipynb").is_file():
        settings = settings or EngineSettings.from_env()
        with ThreadPoolExecutor(2) as pool:  # the two gradings are independent
            reference_f = pool.submit(grade, bundle, (bundle.path / "solution.ipynb").read_bytes(), settings)
            templated = pool.submit(grade, bundle, json.dumps(template).encode(), settings).result()
            reference = reference_f.result()
        report.reference = _summary(reference)
        _check_reference(report, bundle, reference)
        report.template = _summary(templated)
        report.add(
            "template scores less than full marks",
            templated.score < templated.max_score,
            f"{templated.score:g}/{templated.max_score:g} ({templated.verdict})",
        )
    report.seconds = time.monotonic() - started
    return report


def _check_environment(report: ValidationReport, bundle: Bundle) -> None:
    from sandbox import environment

    known = environment.available()
    report.add(
        "environment is defined",
        bundle.environment in known,
        f"{bundle.environment}"
        if bundle.environment in known
        else f"unknown environment {bundle.environment!r} (known: {', '.join(known)})",
    )


def _summary(result: GradeResult) -> dict[str, Any]:
    return {
        "verdict": str(result.verdict),
        "score": result.score,
        "max_score": result.max_score,
        "execution_time": result.execution_time,
        "output": result.output,
        "environment": result.environment,
        "image": result.image,
        "preload_s": result.timings.get("preload"),
    }


def _check_module(report: ValidationReport, bundle: Bundle, curriculum: Path) -> None:
    try:
        modules = {m.get("slug") for m in tomllib.loads(curriculum.read_text(encoding="utf-8")).get("modules", [])}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        report.add("module in curriculum.toml", False, f"cannot read {curriculum}: {exc}")
        return
    report.add(
        "module in curriculum.toml",
        bundle.module in modules,
        "" if bundle.module in modules else f"{curriculum} has no module {bundle.module!r}",
    )


def _check_template(report: ValidationReport, bundle: Bundle) -> dict[str, Any] | None:
    solution = bundle.path / "solution.ipynb"
    if not solution.is_file():
        report.add("template", False, "solution.ipynb is missing")
        return None
    try:
        nb = json.loads(solution.read_text(encoding="utf-8"))
        template = make_template(nb)
    except (ValueError, TemplateError) as exc:
        report.add("template", False, f"solution.ipynb: {exc}")
        return None
    stripped = sum("NotImplementedError" in "".join(c.get("source", "")) for c in template["cells"])
    report.add(
        "template",
        stripped > 0,
        f"{stripped} solution region(s) stripped"
        if stripped
        else "no '# BEGIN SOLUTION' region: the template would be the solution",
    )
    return template


def _check_tests_static(report: ValidationReport, bundle: Bundle) -> None:
    problems = []
    helpers = bundle.tests_dir / HELPERS_DIR
    for path in bundle.test_files() + (sorted(helpers.glob("*.py")) if helpers.is_dir() else []):
        try:
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            problems.append(f"{path.relative_to(bundle.tests_dir)}:{exc.lineno}: {exc.msg}")
    report.add("tests parse", not problems, "; ".join(problems))
    clashes = _shared_test_names(bundle.test_files())
    report.add(
        "test names are unique",
        not clashes,
        "; ".join(f"{name} is defined in {', '.join(files)}" for name, files in clashes.items()),
    )
    visible = visible_test_files(bundle)
    hidden_modules = {p.stem for p in bundle.test_files()} - {p.stem for p in visible}
    leaks = [f"{p.name} imports {name}" for p in visible for name in _imports(p) if name in hidden_modules]
    report.add(
        "visible test files stand alone", not leaks, "; ".join(leaks) or f"{len(visible)} file(s) shipped to learners"
    )


def _shared_test_names(paths: list[Path]) -> dict[str, list[str]]:
    """Test names (``test_x``, ``TestY::test_x``) defined by more than one file: a result row is one per name."""
    owners: dict[str, list[str]] = {}
    for path in paths:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        names = set()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                names.add(node.name)
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                names |= {
                    f"{node.name}::{f.name}"
                    for f in node.body
                    if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) and f.name.startswith("test")
                }
        for name in names:
            owners.setdefault(name, []).append(path.name)
    return {name: files for name, files in sorted(owners.items()) if len(files) > 1}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def _check_data(report: ValidationReport, bundle: Bundle) -> None:
    total = sum(p.stat().st_size for p in bundle.data_files())
    report.add(
        f"data files within {MAX_DATA_MB} MB",
        total <= MAX_DATA_MB * 2**20,
        f"{len(bundle.data_files())} file(s), {total / 2**20:.2f} MB",
    )


def _check_no_leaks(report: ValidationReport, bundle: Bundle, template: dict[str, Any]) -> None:
    visible = set(visible_test_files(bundle))
    hidden_lines = {
        line.strip()
        for p in bundle.test_files()
        if p not in visible
        for line in p.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) >= MIN_LEAK_CHARS and not line.strip().startswith(("#", "import ", "from ", "def test_"))
    }
    places = {"the template": json.dumps(template)}
    places |= {f"data/{rel}": p.read_bytes().decode("utf-8", "replace") for rel, p in bundle.data_map().items()}
    leaks = sorted(
        {f"{where}: {line[:60]!r}" for where, text in places.items() for line in hidden_lines if line in text}
    )
    report.add("no hidden test text in the template or data", not leaks, "; ".join(leaks[:5]))


def _check_reference(report: ValidationReport, bundle: Bundle, result: GradeResult) -> None:
    full = result.verdict == Verdict.GRADED and result.score == result.max_score and result.max_score > 0
    failing = [f"{t.name} ({t.status}): {t.output[:200]}" for t in result.tests if t.status != "passed"]
    report.add(
        "reference gets full marks",
        full,
        f"{result.score:g}/{result.max_score:g} ({result.verdict}) in {result.execution_time:.1f} s"
        + (f"; failing: {'; '.join(failing)}" if failing else "")
        + (f"; {result.output}" if result.output and not full else ""),
    )
    report.add("tests collected", bool(result.tests), f"{len(result.tests)} test(s)")
    unmarked = result.authoring.get("tests_without_points", [])
    report.add(
        "every test has points", not unmarked, f"no @pytest.mark.points on: {', '.join(unmarked)}" if unmarked else ""
    )
    if result.tests and abs(result.max_score - bundle.points) > 1e-9:
        report.add(
            "test points add up to exercise.toml points",
            False,
            f"tests give {result.max_score:g}, exercise.toml says {bundle.points:g}",
        )
    limit = bundle.limits.test_timeout_s
    slow = [f"{t.name} {t.duration:.1f} s" for t in result.tests if t.duration > SLOW_SHARE * limit]
    report.add(
        f"every test well inside its {limit:g} s limit",
        not slow,
        f"slowest {max((t.duration for t in result.tests), default=0):.2f} s"
        if not slow
        else f"over {SLOW_SHARE:.0%} of the limit: {', '.join(slow)}",
    )
    timings = result.timings
    notebook_s = timings.get("notebook", 0.0)
    report.add(
        f"notebook well inside its {bundle.limits.timeout_s:g} s limit",
        notebook_s <= SLOW_SHARE * bundle.limits.timeout_s,
        f"{notebook_s:.1f} s",
        warning=True,
    )
