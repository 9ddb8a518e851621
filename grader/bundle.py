"""Exercise bundles: reading ``exercise.toml`` strictly and hashing the bundle's content.

Layout (DESIGN.md, contract)::

    <module>/<slug>/exercise.toml  README.md  solution.ipynb  tests/test_*.py  data/
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.limits import DEFAULT_LIMITS, Limits

GPU_MODES = ("none", "optional", "required")
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Files that never belong to a bundle's content (editor and interpreter droppings).
IGNORED_NAMES = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".DS_Store"}

_KEYS: dict[str, type | tuple[type, ...]] = {
    "slug": str,
    "title": str,
    "points": (int, float),
    "gpu": str,
    "estimated_minutes": int,
    "limits": dict,
}
_REQUIRED = ("slug", "title", "points")


class BundleError(ValueError):
    """The bundle is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    module: str
    slug: str
    title: str
    points: float
    gpu: str = "none"
    estimated_minutes: int | None = None
    limits: Limits = field(default=DEFAULT_LIMITS)

    @property
    def tests_dir(self) -> Path:
        return self.path / "tests"

    @property
    def data_dir(self) -> Path:
        return self.path / "data"

    def test_files(self) -> list[Path]:
        return sorted(self.tests_dir.glob("test_*.py"))

    def data_files(self) -> list[Path]:
        return content_files(self.data_dir) if self.data_dir.is_dir() else []

    def content_hash(self) -> str:
        return content_hash(self.path)


def content_files(root: Path) -> list[Path]:
    """Every regular file under ``root`` that is part of its content, sorted, symlinks refused."""
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in IGNORED_NAMES for part in rel.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise BundleError(f"{rel}: symbolic links are not allowed in a bundle")
        if path.is_file():
            files.append(path)
    return files


def content_hash(root: Path) -> str:
    """sha256 over the relative paths and bytes of the bundle's files: equal content, equal hash."""
    digest = hashlib.sha256()
    for path in content_files(root):
        rel = path.relative_to(root).as_posix().encode()
        data = path.read_bytes()
        digest.update(len(rel).to_bytes(8, "big") + rel + len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def load_bundle(path: str | Path, *, ceiling: Limits | None = None) -> Bundle:
    """Read a bundle folder, raising BundleError naming the file and key of the first problem."""
    path = Path(path).resolve()
    meta_path = path / "exercise.toml"
    if not meta_path.is_file():
        raise BundleError(f"{meta_path}: missing (every bundle needs an exercise.toml)")
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{meta_path}: not valid TOML: {exc}") from exc
    where = "exercise.toml"
    _check_keys(meta, where)
    slug = meta["slug"]
    if not SLUG_RE.match(slug):
        raise BundleError(f"{where}: slug {slug!r} must be lowercase words joined by hyphens")
    if slug != path.name:
        raise BundleError(f"{where}: slug {slug!r} does not match the folder name {path.name!r}")
    gpu = meta.get("gpu", "none")
    if gpu not in GPU_MODES:
        raise BundleError(f"{where}: gpu must be one of {', '.join(GPU_MODES)}, not {gpu!r}")
    if meta["points"] <= 0:
        raise BundleError(f"{where}: points must be positive")
    try:
        limits = DEFAULT_LIMITS.override(meta.get("limits", {}), ceiling=ceiling)
    except ValueError as exc:
        raise BundleError(f"{where}: [limits]: {exc}") from exc
    if not (path / "tests").is_dir() or not list((path / "tests").glob("test_*.py")):
        raise BundleError(f"{path / 'tests'}: no test_*.py files")
    return Bundle(
        path=path,
        module=path.parent.name,
        slug=slug,
        title=meta["title"],
        points=float(meta["points"]),
        gpu=gpu,
        estimated_minutes=meta.get("estimated_minutes"),
        limits=limits,
    )


def _check_keys(meta: dict[str, Any], where: str) -> None:
    for key in meta:
        if key not in _KEYS:
            raise BundleError(f"{where}: unknown key {key!r} (known: {', '.join(_KEYS)})")
    for key in _REQUIRED:
        if key not in meta:
            raise BundleError(f"{where}: missing required key {key!r}")
    for key, value in meta.items():
        expected = _KEYS[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
            raise BundleError(f"{where}: {key} must be {names}, not {type(value).__name__}")
