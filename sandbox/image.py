"""Building the sandbox images without a registry, one per environment, tagged by content hash.

``python -m sandbox build [ENV...]`` makes, only where missing, three kinds of image:

1. ``coursegrade-base``: Debian bookworm from ``debootstrap --variant=minbase`` and ``docker import``;
2. ``coursegrade-env:<env>-<variant>-<hash>``: the environment's packages. ``base`` installs its
   pinned requirements into /opt/venv; a child (``mi``) installs, --no-deps from its lock, only
   what differs from its parent, into /opt/env/<name>, on top of the parent's image (shared layers);
3. ``coursegrade-sandbox:<env>-<variant>-<hash>``: the packages image plus the grader's runtime and
   the environment's description and package list (the last, small layer).

Wheels are downloaded on the host (containers cannot reach a package index); builds run with the
network off. A rebuilt environment can be checked before it gets its tag (``check``): the candidate
is built under a ``-candidate`` tag and only tagged for use when the check accepts it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from sandbox import environment as environments
from sandbox.environment import Environment

HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / ".build"
# Wheels built on the host from source archives (packages that publish no wheel).
WHEELHOUSE = BUILD_DIR / "wheelhouse"
REPOSITORY = "coursegrade-sandbox"
PACKAGES_REPOSITORY = "coursegrade-env"
BASE_REPOSITORY = "coursegrade-base"
LABEL_ENV = "coursegrade.environment"
LABEL_VARIANT = "coursegrade.variant"
LABEL_STAGE = "coursegrade.stage"
VARIANTS = ("cpu", "cuda")
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3",)
PIP_VERSION = "24.3.1"
# Wheel tags the image's Python (Debian's CPython 3.11 on glibc 2.36, x86-64) can install.
PLATFORMS = [f"manylinux_2_{n}_x86_64" for n in (17, 24, 27, 28, 31, 34, 35)] + [
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
PACKAGES_FILE = "/opt/environment-packages.txt"

Log = Callable[[str], None]


class ImageRejected(RuntimeError):
    """A rebuilt environment failed its check; the candidate image was not tagged for use."""


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()[:12]


def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")


def base_tag() -> str:
    recipe = f"{DEBIAN_SUITE} minbase {' '.join(BASE_PACKAGES)}".encode()
    return f"{BASE_REPOSITORY}:{DEBIAN_SUITE}-{_digest([recipe])}"


def _runtime_files() -> list[Path]:
    return sorted((HERE / "runtime").glob("*.py"))


def _package_inputs(env: Environment, variant: str) -> list[Path]:
    if env.parent is None:
        return [HERE / "Dockerfile", env.requirements, HERE / f"requirements-{variant}.txt"]
    return [env.path.parent / "Dockerfile", env.requirements]


def packages_tag(name: str = environments.DEFAULT, variant: str = "cpu", root: Path = environments.ROOT) -> str:
    """The tag of the packages image of ``name`` (its parent's tag is part of the hash)."""
    _check_variant(variant)
    env = environments.load(name, root)
    parts = [env.name.encode(), variant.encode(), PIP_VERSION.encode()]
    parts.append((packages_tag(env.parent, variant, root) if env.parent else base_tag()).encode())
    for path in _package_inputs(env, variant):
        parts += [path.name.encode(), path.read_bytes()]
    return f"{PACKAGES_REPOSITORY}:{name}-{variant}-{_digest(parts)}"


def description(env: Environment, root: Path = environments.ROOT) -> dict[str, object]:
    """What the image says about itself at /opt/environment.json (and what the host passes on)."""
    return {
        "name": env.name,
        "description": env.description,
        "parents": [e.name for e in environments.chain(env.name, root)[:-1]],
        "heavy_modules": list(env.heavy_modules),
        "preload_timeout_s": env.preload_timeout_s,
        "codecs": [c.as_dict() for e in environments.chain(env.name, root) for c in e.codecs],
    }


def _env_path(name: str, root: Path) -> str:
    """PYTHONPATH additions of ``name``: its own packages first, then its ancestors' (not base's)."""
    chain = [e for e in environments.chain(name, root) if e.parent is not None]
    return "".join(f":/opt/env/{e.name}" for e in reversed(chain))


def image_tag(name: str = environments.DEFAULT, variant: str = "cpu", root: Path = environments.ROOT) -> str:
    """The tag the sandbox image of environment ``name`` has when built from this checkout."""
    env = environments.load(name, root)
    parts = [packages_tag(name, variant, root).encode(), (HERE / "Dockerfile.runtime").read_bytes()]
    parts.append(json.dumps(description(env, root), sort_keys=True).encode())
    for path in _runtime_files():
        parts += [path.name.encode(), path.read_bytes()]
    return f"{REPOSITORY}:{name}-{variant}-{_digest(parts)}"


def _exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def build_base(client: docker.DockerClient, log: Log) -> str:
    tag = base_tag()
    if _exists(client, tag):
        return tag
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (apt-get install -y debootstrap)")
    log(f"building base image {tag} with debootstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="coursegrade-base-") as tmp:
        root = Path(tmp) / "root"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                DEBIAN_SUITE,
                str(root),
                DEBIAN_MIRROR,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for junk in (
            "var/cache/apt/archives",
            "var/lib/apt/lists",
            "usr/share/doc",
            "usr/share/man",
            "usr/share/locale",
        ):
            shutil.rmtree(root / junk, ignore_errors=True)
        archive = Path(tmp) / "root.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(archive), "."], check=True)
        repository, _, version = tag.partition(":")
        client.api.import_image_from_file(str(archive), repository=repository, tag=version)
    return tag


def _pip(args: list[str], *, variant: str = "cpu", index_url: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check"]
    if index_url:
        cmd += ["--extra-index-url", index_url]
    env = dict(os.environ)
    if variant == "cuda":
        # This machine's pip config points at a local CPU build of torch; the CUDA build must
        # come from the index (PyPI's Linux torch wheels are CUDA builds, or --index-url).
        env["PIP_CONFIG_FILE"] = os.devnull
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    # pip warns once per package about this machine's index settings; keep only what matters.
    noise = "is ignored: it is neither a file nor a directory"
    proc.stdout = "\n".join(line for line in proc.stdout.splitlines() if noise not in line)
    return proc


def _platform_args() -> list[str]:
    args = ["--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    return args + ["--find-links", str(WHEELHOUSE)]


_NO_DIST = re.compile(r"No matching distribution found for (\S+)")


def _with_source_wheels(
    run: Callable[[], subprocess.CompletedProcess[str]], log: Log
) -> subprocess.CompletedProcess[str]:
    """Run a pip command that needs binary wheels; build a wheel on the host for each package that
    publishes only a source archive (pure-Python ones, like transformers-stream-generator), and retry."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    tried: set[str] = set()
    while True:
        proc = run()
        missing = _NO_DIST.search(proc.stdout)
        if proc.returncode == 0 or missing is None or missing.group(1) in tried:
            return proc
        spec = missing.group(1)
        tried.add(spec)
        log(f"{spec} has no wheel: building one from its source archive")
        built = _pip(["wheel", "--quiet", "--no-deps", "-w", str(WHEELHOUSE), spec])
        if built.returncode != 0:
            return proc


def download_wheels(
    variant: str,
    dest: Path,
    log: Log,
    index_url: str | None = None,
    *,
    requirements: list[Path],
    no_deps: bool = False,
) -> None:
    """Fetch every wheel of ``requirements`` into ``dest`` (a cache: pip skips what is there).

    ``no_deps`` for a resolved lock: every package is listed, none is to be resolved again."""
    dest.mkdir(parents=True, exist_ok=True)
    args = ["download", "--quiet", *_platform_args(), "-d", str(dest), f"pip=={PIP_VERSION}"]
    for req in requirements:
        args += ["-r", str(req)]
    if no_deps:
        args.append("--no-deps")
    log(f"downloading wheels for the {variant} image into {dest}")
    proc = _with_source_wheels(lambda: _pip(args, variant=variant, index_url=index_url), log)
    if proc.returncode != 0:
        raise RuntimeError(f"pip download failed:\n{proc.stdout}")
    for wheel in WHEELHOUSE.glob("*.whl"):
        if not (dest / wheel.name).exists():
            shutil.copy2(wheel, dest / wheel.name)


def lock(name: str, *, root: Path = environments.ROOT, log: Log = print) -> Path:
    """Resolve a child environment's requirements.in (with its ancestors') into its requirements.txt."""
    env = environments.load(name, root)
    if env.parent is None or not env.requirements_in.is_file():
        raise ValueError(f"environment {name!r} has no parent and requirements.in to resolve")
    chain = environments.chain(name, root)
    reqs = [chain[0].requirements, HERE / "requirements-cpu.txt"]
    reqs += [e.requirements_in for e in chain[1:]]
    with tempfile.TemporaryDirectory(prefix="coursegrade-lock-") as tmp:
        report = Path(tmp) / "report.json"
        args = ["install", "--quiet", "--dry-run", "--ignore-installed", *_platform_args()]
        args += ["--target", str(Path(tmp) / "target"), "--report", str(report)]
        for req in reqs:
            args += ["-r", str(req)]
        log(f"resolving {', '.join(str(r.relative_to(HERE)) for r in reqs)}")
        proc = _with_source_wheels(lambda: _pip(args), log)
        if proc.returncode != 0:
            raise RuntimeError(f"could not resolve environment {name!r}:\n{proc.stdout}")
        resolved = json.loads(report.read_text())["install"]
    pins = sorted(
        (item["metadata"]["name"], item["metadata"]["version"])
        for item in resolved
        if not environments.VARIANT_PACKAGES.match(environments.normalise(item["metadata"]["name"]))
    )
    header = (
        f"# The resolved packages of the {name!r} environment (its ancestors' included), written by\n"
        f"# `python -m sandbox lock {name}` from requirements.in. Installed --no-deps over the parent:\n"
        "# only what differs from the parent's image goes into this environment's layer.\n"
    )
    env.requirements.write_text(header + "".join(f"{n}=={v}\n" for n, v in sorted(pins, key=lambda p: p[0].lower())))
    return env.requirements


def installed_packages(client: docker.DockerClient, image: str, env_path: str = "") -> dict[str, str]:
    """``{normalised name: version}`` of what ``image``'s Python imports (runs a throwaway container)."""
    # The same listing the sandbox image records at build time (runtime/packages.py, run as a script:
    # a packages image has no runtime to import it from).
    code = (HERE / "runtime" / "packages.py").read_text()
    out = client.containers.run(
        image,
        ["python3", "-c", code],
        remove=True,
        network_mode="none",
        environment={"PYTHONPATH": env_path.lstrip(":")},
    )
    return environments.parse_pins(out.decode())


def _docker_build(
    client: docker.DockerClient,
    context: Path,
    tag: str,
    buildargs: dict[str, str],
    log: Log,
    *,
    no_cache: bool = False,
) -> None:
    log(f"building {tag}")
    stream = client.api.build(
        path=str(context),
        nocache=no_cache,
        tag=tag,
        buildargs=buildargs,
        network_mode="none",
        rm=True,
        forcerm=True,
        decode=True,
    )
    for chunk in stream:
        if "error" in chunk:
            raise RuntimeError(f"image build of {tag} failed: {chunk['error']}")
        text = chunk.get("stream", "").rstrip()
        if text.startswith("Step "):
            log(text)


def _fresh_context(name: str) -> Path:
    context = BUILD_DIR / f"context-{name}"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    return context


def _link_wheels(wheels: Path, context: Path) -> None:
    (context / "wheels").mkdir()
    for wheel in wheels.glob("*.whl"):
        (context / "wheels" / wheel.name).hardlink_to(wheel)


def build_packages(
    client: docker.DockerClient,
    name: str,
    variant: str,
    *,
    root: Path,
    index_url: str | None,
    log: Log,
    no_cache: bool = False,
) -> str:
    """Build (if missing) the packages image of ``name`` and of its ancestors."""
    tag = packages_tag(name, variant, root)
    if _exists(client, tag):
        return tag
    env = environments.load(name, root)
    if env.parent is None:
        parent = build_base(client, log)
        wheels = BUILD_DIR / f"wheels-{name}-{variant}"
        download_wheels(
            variant, wheels, log, index_url, requirements=[env.requirements, HERE / f"requirements-{variant}.txt"]
        )
        context = _fresh_context(f"{name}-{variant}")
        shutil.copy2(HERE / "Dockerfile", context / "Dockerfile")
        shutil.copy2(env.requirements, context / "requirements.txt")
        for v in VARIANTS:
            shutil.copy2(HERE / f"requirements-{v}.txt", context)
        _link_wheels(wheels, context)
        _docker_build(client, context, tag, {"BASE_IMAGE": parent, "VARIANT": variant}, log, no_cache=no_cache)
    else:
        parent = build_packages(client, env.parent, variant, root=root, index_url=index_url, log=log, no_cache=no_cache)
        have = installed_packages(client, parent, _env_path(env.parent, root))
        delta = {
            pkg: version
            for pkg, version in env.pins().items()
            if not environments.VARIANT_PACKAGES.match(pkg) and have.get(pkg) != version
        }
        log(f"{name} adds or changes {len(delta)} packages over {env.parent}")
        context = _fresh_context(f"{name}-{variant}")
        (context / "delta.txt").write_text("".join(f"{p}=={v}\n" for p, v in sorted(delta.items())))
        wheels = BUILD_DIR / f"wheels-{name}-{variant}"
        download_wheels(variant, wheels, log, index_url, requirements=[context / "delta.txt"], no_deps=True)
        shutil.copy2(env.path.parent / "Dockerfile", context / "Dockerfile")
        _link_wheels(wheels, context)
        _docker_build(client, context, tag, {"PARENT": parent, "NAME": name}, log, no_cache=no_cache)
    shutil.rmtree(context, ignore_errors=True)
    # The install stage (wheels and all, gigabytes) is left behind untagged by the legacy builder.
    client.images.prune(filters={"dangling": True, "label": f"{LABEL_STAGE}=install"})
    return tag


def previous_images(client: docker.DockerClient, name: str, variant: str, tag: str) -> list[str]:
    """Tags of earlier sandbox images of the same environment and variant (what a rebuild replaces)."""
    found = client.images.list(
        name=REPOSITORY, filters={"label": [f"{LABEL_ENV}={name}", f"{LABEL_VARIANT}={variant}"]}
    )
    tags = [t for image in found for t in image.tags if t != tag and not t.endswith("-candidate")]
    return sorted(tags)


def build(
    name: str = environments.DEFAULT,
    variant: str = "cpu",
    *,
    force: bool = False,
    index_url: str | None = None,
    log: Log = print,
    root: Path = environments.ROOT,
    check: Callable[[str], bool] | None = None,
    no_cache: bool = False,
) -> str:
    """Build the sandbox image of environment ``name`` unless an image with the same inputs exists.

    ``no_cache`` ignores Docker's layer cache (what a first build on a new machine costs).

    ``check(candidate_tag)`` runs when an earlier image of this environment exists (a rebuild):
    the new image gets its tag, and so is used for grading, only if the check accepts it.
    """
    tag = image_tag(name, variant, root)
    client = docker.from_env(timeout=900)
    if _exists(client, tag) and not force:
        log(f"{tag} is up to date")
        return tag
    env = environments.load(name, root)
    packages = build_packages(client, name, variant, root=root, index_url=index_url, log=log, no_cache=no_cache)
    context = _fresh_context(f"runtime-{name}-{variant}")
    shutil.copy2(HERE / "Dockerfile.runtime", context / "Dockerfile")
    shutil.copytree(HERE / "runtime", context / "runtime", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (context / "environment.json").write_text(json.dumps(description(env, root), indent=2))
    candidate = f"{tag}-candidate"
    _docker_build(
        client,
        context,
        candidate,
        {"PACKAGES": packages, "ENV_NAME": name, "VARIANT": variant, "ENV_PATH": _env_path(name, root)},
        log,
        no_cache=no_cache,
    )
    shutil.rmtree(context, ignore_errors=True)
    earlier = previous_images(client, name, variant, tag)
    if check is not None and earlier:
        log(f"{name}: rebuilt (earlier: {', '.join(earlier)}); checking the exercises that use it")
        accepted = check(candidate)
        from sandbox.driver import wait_removals

        wait_removals()  # the check's sandboxes use the candidate image until they are gone
        if not accepted:
            raise ImageRejected(
                f"{candidate} was not tagged {tag}: exercises of {name!r} no longer pass with it "
                "(graders keep the earlier image; fix the exercises or pins, or accept the drift)"
            )
    client.images.get(candidate).tag(*tag.split(":", 1))
    client.images.remove(candidate, noprune=True)
    return tag


def packages(image: str) -> list[str]:
    """The ``name==version`` lines recorded in ``image`` when it was built."""
    return _read_file(image, PACKAGES_FILE).decode().split()


def image_description(image: str) -> dict[str, object]:
    """The environment description baked into ``image`` (/opt/environment.json)."""
    return json.loads(_read_file(image, "/opt/environment.json"))


def _read_file(image: str, path: str) -> bytes:
    import io
    import tarfile

    client = docker.from_env(timeout=120)
    container = client.containers.create(image, command=["true"], network_disabled=True)
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.getmembers()[0]
            handle = tar.extractfile(member)
            return handle.read() if handle else b""
    finally:
        container.remove(force=True)
