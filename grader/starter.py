"""The learner's starter pack: template, data, visible tests and a way to run them offline."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from grader.bundle import load_bundle
from grader.validate import visible_test_files

RUNTIME = Path(__file__).resolve().parent.parent / "sandbox" / "runtime"
CHECK_PY = '''"""Run the visible tests of this exercise against your notebook: python check.py [notebook.ipynb]

Needs the course's Python packages (numpy, torch, pytest, nbclient, ipykernel, safetensors).
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sandbox_runtime.local import main  # noqa: E402

sys.exit(main(HERE, sys.argv[1:]))
'''


def starter_pack(bundle_dir: str | Path, template: dict[str, Any]) -> bytes:
    """A zip with ``<slug>/``: the template notebook, README, data/, the visible tests, check.py."""
    bundle = load_bundle(bundle_dir)
    top = bundle.slug
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as pack:
        pack.writestr(f"{top}/{bundle.slug}.ipynb", json.dumps(template, indent=1))
        if (bundle.path / "README.md").is_file():
            pack.write(bundle.path / "README.md", f"{top}/README.md")
        for rel, path in bundle.data_map().items():
            pack.write(path, f"{top}/data/{rel}")
        for path in visible_test_files(bundle):
            pack.write(path, f"{top}/tests/{path.name}")
        for path in sorted(RUNTIME.glob("*.py")):
            pack.write(path, f"{top}/sandbox_runtime/{path.name}")
        pack.writestr(f"{top}/check.py", CHECK_PY)
    return buf.getvalue()
