"""``python -m sandbox build | tag | reap``: manage the sandbox image and leftover containers."""

from __future__ import annotations

import argparse

from sandbox import driver, image


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build the sandbox image if its inputs changed")
    b.add_argument("--variant", choices=image.VARIANTS, default="cpu")
    b.add_argument("--force", action="store_true", help="rebuild even if the tag exists")
    b.add_argument("--index-url", help="extra package index for the wheels (the CUDA torch index)")
    t = sub.add_parser("tag", help="print the image tag for the current inputs")
    t.add_argument("--variant", choices=image.VARIANTS, default="cpu")
    sub.add_parser("reap", help="remove sandbox containers and volumes left by dead gradings")
    args = parser.parse_args()
    if args.command == "build":
        print(image.build(args.variant, force=args.force, index_url=args.index_url))
    elif args.command == "tag":
        print(image.image_tag(args.variant))
    else:
        removed = driver.reap_stale(force_all=False)
        print(f"removed {removed} leftover containers and volumes")


if __name__ == "__main__":
    main()
