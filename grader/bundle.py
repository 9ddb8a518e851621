"""Exercise bundles: reading ``exercise.toml`` strictly and hashing the bundle's content.

Layout (DESIGN.md, contract)::

    <module>/<slug>/exercise.toml  README.md  solution.ipynb  tests/test_*.py  data/

Beyond the contract, ``exercise.toml`` may name its sandbox environment (``environment = "mi"``,
default ``base``) and shared course files (``shared = ["induction_model"]``): the folder
``exercises/_shared/<name>/`` is part of the bundle's data as ``data/<name>/`` (beside the learner's
notebook as ``<name>/``), and of its content hash, so one model serves many bundles without
copies. A published snapshot holds its shared files as ordinary data, so it stands alone.
``[[codec]]`` tables declare library types that cross between kernel and judge as data, and
``tests/kernel_helpers/*.py`` are instructor modules the tests run inside the learner's kernel.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.limits import DEFAULT_LIMITS, Limits
from sandbox.runtime.wire import Codec, WireError

GPU_MODES = ("none", "optional", "required")
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SHARED_DIR = "_shared"
# Where shared files are looked up when the bundle's own exercises folder has none (an uploaded
# bundle unpacked elsewhere refers to the course's shared files).
COURSE_SHARED = Path(__file__).resolve().parent.parent / "exercises" / SHARED_DIR
# Files that never belong to a bundle's content (editor and interpreter droppings).
IGNORED_NAMES = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".DS_Store"}

_KEYS: dict[str, type | tuple[type, ...]] = {
    "slug": str,
    "title": str,
    "points": (int, float),
    "gpu": str,
    "estimated_minutes": int,
    "limits": dict,
    "environment": str,
    "shared": list,
    "codec": list,
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
    environment: str = "base"
    # (name, folder) of each shared course folder this bundle uses.
    shared: tuple[tuple[str, Path], ...] = ()
    # Library types of this exercise that cross between kernel and judge as data ([[codec]]).
    codecs: tuple[Codec, ...] = ()

    @property
    def tests_dir(self) -> Path:
        return self.path / "tests"

    @property
    def data_dir(self) -> Path:
        return self.path / "data"

    def test_files(self) -> list[Path]:
        return sorted(self.tests_dir.glob("test_*.py"))

    def data_map(self) -> dict[str, Path]:
        """Every data file by its path under data/: the bundle's own, then each shared folder's."""
        files = (
            {p.relative_to(self.data_dir).as_posix(): p for p in content_files(self.data_dir)}
            if self.data_dir.is_dir()
            else {}
        )
        for name, folder in self.shared:
            files |= {f"{name}/{p.relative_to(folder).as_posix()}": p for p in content_files(folder)}
        return files

    def data_files(self) -> list[Path]:
        return list(self.data_map().values())

    def content_map(self) -> dict[str, Path]:
        """Every file of the bundle by its path in a self-contained copy (shared files under data/)."""
        files = {p.relative_to(self.path).as_posix(): p for p in content_files(self.path)}
        return files | {f"data/{rel}": p for rel, p in self.data_map().items()}

    def content_hash(self) -> str:
        return _hash_files(self.content_map())


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
    """sha256 over the relative paths and bytes of the folder's files: equal content, equal hash."""
    return _hash_files({p.relative_to(root).as_posix(): p for p in content_files(root)})


def _hash_files(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        rel = name.encode()
        data = files[name].read_bytes()
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
    environment = meta.get("environment", "base")
    if not SLUG_RE.match(environment):
        raise BundleError(f"{where}: environment {environment!r} must be the name of a sandbox environment")
    return Bundle(
        path=path,
        module=path.parent.name,
        slug=slug,
        title=meta["title"],
        points=float(meta["points"]),
        gpu=gpu,
        estimated_minutes=meta.get("estimated_minutes"),
        limits=limits,
        environment=environment,
        shared=_shared_folders(path, meta.get("shared", []), where),
        codecs=_codecs(meta.get("codec", []), where),
    )


def _codecs(tables: list[Any], where: str) -> tuple[Codec, ...]:
    try:
        return tuple(Codec.parse(t, f"{where}: codec {i + 1}") for i, t in enumerate(tables))
    except WireError as exc:
        raise BundleError(str(exc)) from exc


def _shared_folders(path: Path, names: list[Any], where: str) -> tuple[tuple[str, Path], ...]:
    found = []
    for name in names:
        if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise BundleError(
                f"{where}: shared entries must be folder names of {SHARED_DIR}/ (a Python identifier), not {name!r}"
            )
        own = path / "data" / name
        beside = path.parent.parent / SHARED_DIR / name
        if beside.is_dir() and own.exists():
            raise BundleError(f"{where}: data/{name} would hide the shared folder {name!r}; rename one of them")
        if own.is_dir():
            continue  # a published snapshot: the shared files are part of its data already
        folder = beside if beside.is_dir() else COURSE_SHARED / name
        if not folder.is_dir():
            raise BundleError(f"{where}: shared folder {name!r} not found in {SHARED_DIR}/")
        found.append((name, folder.resolve()))
    return tuple(found)


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
