"""``python -m grader <bundle-dir> <notebook.ipynb>``: grade once in the sandbox, print the Result JSON."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

import docker.errors

from grader.bundle import BundleError
from grader.engine import grade


def _interrupt(signum: int, frame: object) -> None:
    # Turn SIGTERM into an exception so the sandbox's clean-up in `finally` runs.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    parser.add_argument("bundle", type=Path, help="exercise bundle folder (with exercise.toml)")
    parser.add_argument("notebook", type=Path, help="the learner's .ipynb")
    parser.add_argument("--indent", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        notebook = args.notebook.read_bytes()
    except OSError as exc:
        parser.error(f"cannot read {args.notebook}: {exc.strerror}")
    try:
        result = grade(args.bundle, notebook)
    except BundleError as exc:
        print(f"invalid bundle: {exc}", file=sys.stderr)
        return 2
    except docker.errors.ImageNotFound as exc:
        print(
            f"the sandbox image is missing ({exc.explanation}); build it with: python -m sandbox build", file=sys.stderr
        )
        return 2
    except docker.errors.DockerException as exc:
        print(f"cannot reach Docker: {exc}", file=sys.stderr)
        return 2
    print(result.to_json(indent=args.indent or None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
