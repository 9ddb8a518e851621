"""``python -m sandbox build | tag | lock | packages | reap``: the environments' images and leftovers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sandbox import driver, environment, image

EXERCISES = Path(__file__).resolve().parent.parent / "exercises"


def _names(args: argparse.Namespace) -> list[str]:
    if args.all:
        return environment.available()
    if args.used:
        from grader.drift import environments_in_use

        return environments_in_use(EXERCISES)
    return args.environments or [environment.DEFAULT]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build environments' images whose inputs changed (default: base)")
    b.add_argument(
        "environments", nargs="*", help=f"names from sandbox/environments/ ({', '.join(environment.available())})"
    )
    b.add_argument("--all", action="store_true", help="every environment")
    b.add_argument("--used", action="store_true", help="the environments the exercises under exercises/ use")
    b.add_argument("--variant", choices=image.VARIANTS, default="cpu")
    b.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    b.add_argument("--index-url", help="extra package index for the wheels (the CUDA torch index)")
    b.add_argument(
        "--no-drift-check",
        action="store_true",
        help="tag a rebuilt image without grading the references of its exercises first",
    )
    t = sub.add_parser("tag", help="print the image tag of an environment for the current inputs")
    t.add_argument("environment", nargs="?", default=environment.DEFAULT)
    t.add_argument("--variant", choices=image.VARIANTS, default="cpu")
    lk = sub.add_parser("lock", help="resolve a child environment's requirements.in into its requirements.txt")
    lk.add_argument("environment")
    p = sub.add_parser("packages", help="print the packages (pip freeze) of an environment's built image")
    p.add_argument("environment", nargs="?", default=environment.DEFAULT)
    p.add_argument("--variant", choices=image.VARIANTS, default="cpu")
    sub.add_parser("reap", help="remove sandbox containers and volumes left by dead gradings")
    args = parser.parse_args()
    if args.command == "build":
        failed = False
        for name in _names(args):
            check = None if args.no_drift_check else _drift_check(name)
            try:
                print(image.build(name, args.variant, force=args.force, index_url=args.index_url, check=check))
            except image.ImageRejected as exc:
                print(f"error: {exc}", file=sys.stderr)
                failed = True
        sys.exit(1 if failed else 0)
    elif args.command == "tag":
        print(image.image_tag(args.environment, args.variant))
    elif args.command == "lock":
        print(image.lock(args.environment))
    elif args.command == "packages":
        print("\n".join(image.packages(image.image_tag(args.environment, args.variant))))
    else:
        removed = driver.reap_stale(force_all=False)
        print(f"removed {removed} leftover containers and volumes")


def _drift_check(name: str):
    from grader.drift import check_environment

    def check(candidate: str) -> bool:
        report = check_environment(name, candidate, EXERCISES)
        print(report.to_text())
        return report.ok

    return check


if __name__ == "__main__":
    main()
