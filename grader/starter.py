"""The learner's starter pack: template, data, visible tests and a way to run them offline."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from grader.bundle import Bundle, load_bundle
from grader.validate import visible_test_files
from sandbox import environment
from sandbox.runtime.local import CODECS_FILE
from sandbox.runtime.student import HELPERS_DIR
from sandbox.runtime.wire import Codec

RUNTIME = Path(__file__).resolve().parent.parent / "sandbox" / "runtime"
# The notebook normaliser and what it needs, so a local check runs the notebook as the grader will.
NORMALISER = [Path(__file__).resolve().parent / name for name in ("limits.py", "notebook.py", "normalize.py")]
CHECK_PY = '''"""Run the visible tests of this exercise against your notebook: python check.py [notebook.ipynb]

Needs the course's Python packages (numpy, torch, pytest, nbclient, ipykernel, safetensors).
Your notebook is first adjusted as the grader adjusts it (install and download lines skipped...).
"""

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from grader.limits import DEFAULT_LIMITS  # noqa: E402
from grader.normalize import prepare  # noqa: E402
from grader.notebook import InvalidNotebook  # noqa: E402
from sandbox_runtime.local import main  # noqa: E402

args = sys.argv[1:]
notebooks = sorted(HERE.glob("*.ipynb"))
source = Path(args[0]) if args else (notebooks[0] if len(notebooks) == 1 else None)
if source is None or not source.is_file():
    sys.exit(main(HERE, args))
try:
    prepared = prepare(source.read_bytes(), DEFAULT_LIMITS)
except InvalidNotebook as exc:
    sys.exit(f"your notebook could not be read: {exc}")
for change in prepared.changes:
    print(f"adjusted: {change}")
with tempfile.TemporaryDirectory() as tmp:
    ready = Path(tmp) / source.name
    ready.write_text(json.dumps(prepared.notebook))
    sys.exit(main(HERE, [str(ready)]))
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
        # Kernel helpers run beside the learner's code anyway: nothing in them is hidden.
        helpers = bundle.tests_dir / HELPERS_DIR
        for path in sorted(helpers.glob("*.py")) if helpers.is_dir() else []:
            pack.write(path, f"{top}/tests/{HELPERS_DIR}/{path.name}")
        codecs = [c.as_dict() for c in bundle_codecs(bundle)]
        if codecs:
            pack.writestr(f"{top}/{CODECS_FILE}", json.dumps(codecs, indent=1))
        for path in sorted(RUNTIME.glob("*.py")):
            pack.write(path, f"{top}/sandbox_runtime/{path.name}")
        pack.writestr(f"{top}/grader/__init__.py", "")
        for path in NORMALISER:
            pack.write(path, f"{top}/grader/{path.name}")
        pack.writestr(f"{top}/check.py", CHECK_PY)
    return buf.getvalue()


def bundle_codecs(bundle: Bundle) -> tuple[Codec, ...]:
    """The codecs a grading of ``bundle`` uses: its environment's (with its ancestors'), then its own."""
    try:
        chain = environment.chain(bundle.environment)
    except environment.DefinitionError:
        chain = []
    return tuple(c for env in chain for c in env.codecs) + bundle.codecs
