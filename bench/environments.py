"""Benchmark: the environments' images (size, own layers, build time) and their heavy imports.

    .venv/bin/python bench/environments.py [--rebuild]

Prints, per environment: its image's size, what its own layers add over its parent, the number of
packages it holds and the cold import time of each heavy module in a fresh container (what the
kernel pays before the learner's clock starts). With ``--rebuild`` it first removes the images and
times their builds from the host's cached wheels without Docker's layer cache (what a first build
on a new machine costs, less the wheel downloads): the packages image of each environment (base,
then mi on top of it), then a runtime-only rebuild (the last layer, what a change to the grader's
code costs).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docker  # noqa: E402

from sandbox import environment, image  # noqa: E402


def _size(client: docker.DockerClient, tag: str) -> int:
    return int(client.images.get(tag).attrs["Size"])


def _remove(client: docker.DockerClient, tag: str) -> None:
    try:
        client.images.remove(tag, force=True)
    except docker.errors.ImageNotFound:
        pass


def _import_seconds(client: docker.DockerClient, tag: str, module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = client.containers.run(tag, ["python3", "-c", code], remove=True, network_mode="none", user="1000:1000")
    return float(out.decode().strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rebuild", action="store_true", help="remove the images and time their builds")
    args = parser.parse_args()
    client = docker.from_env(timeout=900)
    names = environment.available()
    if args.rebuild:
        for name in reversed(names):
            _remove(client, image.image_tag(name))
            _remove(client, image.packages_tag(name))
        print("build from cached wheels, no layer cache, seconds")
        for name in names:
            started = time.perf_counter()
            image.build(name, log=lambda _: None, no_cache=True)
            print(f"  {name:6} packages + runtime: {time.perf_counter() - started:7.1f}")
        for name in names:
            _remove(client, image.image_tag(name))
            started = time.perf_counter()
            image.build(name, log=lambda _: None)
            print(f"  {name:6} runtime layer only:  {time.perf_counter() - started:7.1f}")
    print(f"\n{'environment':12}{'image GB':>10}{'own GB':>9}{'packages':>10}  cold import of each heavy module, s")
    for name in names:
        env = environment.load(name)
        tag = image.image_tag(name)
        size = _size(client, tag)
        parent = _size(client, image.image_tag(env.parent)) if env.parent else _size(client, image.base_tag())
        imports = ", ".join(f"{m} {_import_seconds(client, tag, m):.1f}" for m in env.heavy_modules)
        print(f"{name:12}{size / 1e9:10.2f}{(size - parent) / 1e9:9.2f}{len(image.packages(tag)):10}  {imports}")


if __name__ == "__main__":
    main()
