"""Print the packages this image's Python sees, as ``name==version`` lines (pip freeze's format).

Written into every sandbox image at build time (/opt/environment-packages.txt), so learners and
authors see exactly what their code and the tests ran with. Where an environment's own folder on
PYTHONPATH shadows a parent's package, the one that imports (first on sys.path) is listed.
"""

from __future__ import annotations

import importlib.metadata
import re


def packages() -> list[str]:
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        seen.setdefault(key, f"{name}=={dist.version}")  # sys.path order: the first one imports
    return sorted(seen.values(), key=str.lower)


if __name__ == "__main__":
    print("\n".join(packages()))
