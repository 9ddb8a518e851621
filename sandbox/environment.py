"""Exercise environments: named sandbox images, each defined by a folder in ``sandbox/environments/``.

::

    sandbox/environments/<name>/
      environment.toml    description, parent (another environment), heavy_modules, preload_timeout_s,
                          [[codec]] tables (library types that cross as data; a child inherits them)
      requirements.txt    base: the pinned packages; a child: the resolved lock of the whole
                          environment, installed over its parent with --no-deps
      requirements.in     a child's top-level decisions, resolved into requirements.txt by
                          ``python -m sandbox lock <name>``

An exercise names its environment in ``exercise.toml`` (``environment = "mi"``; default ``base``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sandbox.runtime.wire import Codec, WireError

ROOT = Path(__file__).resolve().parent / "environments"
DEFAULT = "base"
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_KEYS = {"description", "parent", "heavy_modules", "preload_timeout_s", "codec"}
# Packages that a variant (CPU or CUDA build of torch) decides, never an environment's lock.
VARIANT_PACKAGES = re.compile(r"^(torch|triton|nvidia-.*|cuda-.*)$")


class DefinitionError(ValueError):
    """An environment's definition is malformed; the message names the file."""


class UnknownEnvironment(DefinitionError):
    """No environment of that name is defined."""


@dataclass(frozen=True)
class Environment:
    name: str
    path: Path
    description: str
    parent: str | None
    heavy_modules: tuple[str, ...]
    preload_timeout_s: float
    codecs: tuple[Codec, ...] = ()

    @property
    def requirements(self) -> Path:
        return self.path / "requirements.txt"

    @property
    def requirements_in(self) -> Path:
        return self.path / "requirements.in"

    def pins(self) -> dict[str, str]:
        """``{normalised name: version}`` from the lock (requirements.txt)."""
        return parse_pins(self.requirements.read_text(encoding="utf-8"))


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise DefinitionError(f"{line!r}: every requirement must be pinned as name==version")
        pins[normalise(name.strip())] = version.strip()
    return pins


def load(name: str, root: Path = ROOT) -> Environment:
    """The environment ``name`` defined under ``root``; raises UnknownEnvironment or a definition error."""
    if not NAME_RE.match(name):
        raise UnknownEnvironment(f"environment {name!r} is not a valid name (lowercase words joined by hyphens)")
    path = root / name
    meta_path = path / "environment.toml"
    if not meta_path.is_file():
        known = ", ".join(available(root)) or "none"
        raise UnknownEnvironment(f"unknown environment {name!r} (known: {known})")
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{meta_path}: not valid TOML: {exc}") from exc
    unknown = set(meta) - _KEYS
    if unknown:
        raise DefinitionError(f"{meta_path}: unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})")
    parent = meta.get("parent")
    if parent is not None and (not isinstance(parent, str) or parent == name):
        raise DefinitionError(f"{meta_path}: parent must be the name of another environment")
    modules = meta.get("heavy_modules", [])
    if not isinstance(modules, list) or not all(isinstance(m, str) and _MODULE_RE.match(m) for m in modules):
        raise DefinitionError(f"{meta_path}: heavy_modules must be a list of module names")
    timeout = meta.get("preload_timeout_s", 120)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 900:
        raise DefinitionError(f"{meta_path}: preload_timeout_s must be a number of seconds in (0, 900]")
    if not (path / "requirements.txt").is_file() and not (path / "requirements.in").is_file():
        raise DefinitionError(f"{path}: needs a requirements.txt (or a requirements.in to lock)")
    return Environment(
        name=name,
        path=path,
        description=str(meta.get("description", "")),
        parent=parent,
        heavy_modules=tuple(modules),
        preload_timeout_s=float(timeout),
        codecs=parse_codecs(meta.get("codec", []), str(meta_path)),
    )


def parse_codecs(tables: object, where: str) -> tuple[Codec, ...]:
    """``[[codec]]`` tables (``type = "module:QualName"``, ``fields = [...]``) of a definition file."""
    if not isinstance(tables, list):
        raise DefinitionError(f"{where}: codec must be an array of tables ([[codec]])")
    try:
        return tuple(Codec.parse(t, f"{where}: codec {i + 1}") for i, t in enumerate(tables))
    except WireError as exc:
        raise DefinitionError(str(exc)) from exc


def available(root: Path = ROOT) -> list[str]:
    """Names of the environments defined under ``root``."""
    return sorted(p.parent.name for p in root.glob("*/environment.toml"))


def chain(name: str, root: Path = ROOT) -> list[Environment]:
    """The environment and its ancestors, root first (``[base, mi]``); refuses cycles."""
    seen: list[Environment] = []
    current: str | None = name
    while current is not None:
        if any(env.name == current for env in seen):
            raise DefinitionError(f"environment {name!r}: parents form a cycle")
        env = load(current, root)
        seen.append(env)
        current = env.parent
    return list(reversed(seen))


@dataclass(frozen=True)
class ImageEnvironment:
    """What a built sandbox image says about its environment (/opt/environment.json)."""

    name: str
    heavy_modules: tuple[str, ...]
    preload_timeout_s: float
    description: str = ""
    codecs: tuple[Codec, ...] = ()

    @classmethod
    def parse(cls, data: object) -> ImageEnvironment:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise DefinitionError("the image's /opt/environment.json is not an environment description")
        modules = data.get("heavy_modules", [])
        timeout = data.get("preload_timeout_s", 0)
        if not isinstance(modules, list) or not all(isinstance(m, str) and _MODULE_RE.match(m) for m in modules):
            raise DefinitionError("the image's heavy_modules are not module names")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout <= 900:
            raise DefinitionError("the image's preload_timeout_s is not a number of seconds")
        codecs = parse_codecs(data.get("codecs", []), "the image's /opt/environment.json")
        return cls(data["name"], tuple(modules), float(timeout), str(data.get("description", "")), codecs)
