"""Building the sandbox image without a registry, tagged by the hash of its inputs.

``python -m sandbox build`` makes (only when missing):
1. a Debian bookworm base image from ``debootstrap --variant=minbase`` and ``docker import``;
2. the wheels, downloaded on the host (containers cannot reach a package index);
3. the image from ``sandbox/Dockerfile`` with the build's network off.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

HERE = Path(__file__).resolve().parent
BUILD_DIR = HERE / ".build"
REPOSITORY = "coursegrade-sandbox"
BASE_REPOSITORY = "coursegrade-base"
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

Log = Callable[[str], None]


def _digest(parts: list[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()[:12]


def base_tag() -> str:
    recipe = f"{DEBIAN_SUITE} minbase {' '.join(BASE_PACKAGES)}".encode()
    return f"{BASE_REPOSITORY}:{DEBIAN_SUITE}-{_digest([recipe])}"


def _inputs(variant: str) -> list[Path]:
    runtime = sorted(p for p in (HERE / "runtime").glob("*.py"))
    return [HERE / "Dockerfile", HERE / "requirements.txt", HERE / f"requirements-{variant}.txt", *runtime]


def image_tag(variant: str = "cpu") -> str:
    """The tag the image of ``variant`` has when built from the files in this checkout."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {VARIANTS}")
    parts = [base_tag().encode(), variant.encode(), PIP_VERSION.encode()]
    for path in _inputs(variant):
        parts += [path.relative_to(HERE).as_posix().encode(), path.read_bytes()]
    return f"{REPOSITORY}:{variant}-{_digest(parts)}"


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


def download_wheels(variant: str, dest: Path, log: Log, index_url: str | None = None) -> None:
    """Fetch every wheel the image needs into ``dest`` (a cache: pip skips what is there)."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "-d",
        str(dest),
        "-r",
        str(HERE / "requirements.txt"),
        "-r",
        str(HERE / f"requirements-{variant}.txt"),
        f"pip=={PIP_VERSION}",
    ]
    for platform in PLATFORMS:
        cmd += ["--platform", platform]
    if index_url:
        cmd += ["--extra-index-url", index_url]
    env = dict(os.environ)
    if variant == "cuda":
        # This machine's pip config points at a local CPU build of torch; the CUDA build must
        # come from the index (PyPI's Linux torch wheels are CUDA builds, or --index-url).
        env["PIP_CONFIG_FILE"] = os.devnull
    log(f"downloading wheels for the {variant} image into {dest}")
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    # pip warns once per package about this machine's index settings; keep only what matters.
    noise = "is ignored: it is neither a file nor a directory"
    output = "\n".join(line for line in proc.stdout.splitlines() if noise not in line)
    if proc.returncode != 0:
        raise RuntimeError(f"pip download failed:\n{output}")
    if output.strip():
        log(output)


def build(variant: str = "cpu", *, force: bool = False, index_url: str | None = None, log: Log = print) -> str:
    """Build the sandbox image of ``variant`` unless an image with the same input hash exists."""
    tag = image_tag(variant)
    client = docker.from_env(timeout=600)
    if _exists(client, tag) and not force:
        log(f"{tag} is up to date")
        return tag
    base = build_base(client, log)
    wheels = BUILD_DIR / f"wheels-{variant}"
    download_wheels(variant, wheels, log, index_url)
    context = BUILD_DIR / f"context-{variant}"
    shutil.rmtree(context, ignore_errors=True)
    context.mkdir(parents=True)
    for path in _inputs(variant):
        target = context / path.relative_to(HERE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copy2(HERE / "requirements-cpu.txt", context)
    shutil.copy2(HERE / "requirements-cuda.txt", context)
    (context / "wheels").mkdir()
    for wheel in wheels.glob("*.whl"):
        (context / "wheels" / wheel.name).hardlink_to(wheel)
    log(f"building {tag}")
    stream = client.api.build(
        path=str(context),
        tag=tag,
        buildargs={"BASE_IMAGE": base, "VARIANT": variant},
        network_mode="none",
        rm=True,
        forcerm=True,
        decode=True,
    )
    for chunk in stream:
        if "error" in chunk:
            raise RuntimeError(f"image build failed: {chunk['error']}")
        text = chunk.get("stream", "").rstrip()
        if text.startswith("Step "):
            log(text)
    shutil.rmtree(context, ignore_errors=True)
    return tag
