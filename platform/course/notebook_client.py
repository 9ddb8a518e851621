"""The notebook client (``client/coursegrade``), served as a wheel, and what a notebook needs to use it.

Learners install the client inside Colab or Jupyter with ``%pip install <url>``: no package index,
just a pure-Python wheel built here from the repository's source (a zip with the package, its
``.dist-info`` METADATA, WHEEL and RECORD with sha256 hashes), byte-for-byte the same for the same
source, built once per process. It holds no secret, so it needs no login.

The distribution is ``coursegrade-client`` (the module is ``coursegrade``): the platform itself is
the distribution ``coursegrade``, and installing a wheel of that name into the platform's own
environment (a Jupyter started from ``.venv``) would uninstall the platform.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework.authtoken.models import Token

PACKAGE = "coursegrade"
DISTRIBUTION = "coursegrade_client"  # the wheel's file name form of "coursegrade-client"
METADATA_KEY = "coursegrade"  # notebook metadata: {"exercise": slug, "site": url}
# Every entry gets this timestamp and mode, so the bytes depend on the source alone.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_MODE = 0o644 << 16


def client_dir() -> Path:
    return Path(settings.BASE_DIR) / "client" / PACKAGE


@dataclass(frozen=True)
class Wheel:
    filename: str
    version: str
    data: bytes
    sha256: str


@functools.cache
def client_wheel() -> Wheel | None:
    """The client's wheel, built once per process; None where the source is not deployed."""
    folder = client_dir()
    return build_wheel(folder) if (folder / "__init__.py").is_file() else None


def build_wheel(package_dir: Path) -> Wheel:
    """A deterministic py3-none-any wheel of the package in ``package_dir`` (its ``*.py`` files)."""
    version = package_version(package_dir / "__init__.py")
    files = [
        (f"{PACKAGE}/{path.relative_to(package_dir).as_posix()}", path.read_bytes())
        for path in sorted(package_dir.rglob("*.py"))
        if "__pycache__" not in path.parts
    ]
    dist_info = f"{DISTRIBUTION}-{version}.dist-info"
    files += [
        (f"{dist_info}/METADATA", _metadata(version).encode()),
        (f"{dist_info}/WHEEL", _wheel_file().encode()),
    ]
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data in files)
    files.append((f"{dist_info}/RECORD", (record + f"{dist_info}/RECORD,,\n").encode()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ZIP_MODE
            info.create_system = 3  # Unix, whatever the building machine
            archive.writestr(info, data)
    data = buf.getvalue()
    return Wheel(f"{DISTRIBUTION}-{version}-py3-none-any.whl", version, data, hashlib.sha256(data).hexdigest())


def package_version(init: Path) -> str:
    """``__version__ = "..."`` of the package, read without importing it."""
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise ValueError(f"{init} has no __version__ = '...'")


def _metadata(version: str) -> str:
    # No Requires-Dist: the standard library, and IPython, which every notebook has.
    return (
        "Metadata-Version: 2.1\n"
        "Name: coursegrade-client\n"
        f"Version: {version}\n"
        "Summary: Check and submit coursegrade exercises from a notebook (Colab, Jupyter, VS Code)\n"
        "Requires-Python: >=3.9\n"
    )


def _wheel_file() -> str:
    return "Wheel-Version: 1.0\nGenerator: coursegrade platform\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@require_GET
def wheel_download(request: HttpRequest, filename: str) -> HttpResponse:
    """``GET /client/<wheel file name>``: the client's wheel (anonymous: it holds no secret)."""
    wheel = client_wheel()
    if wheel is None:
        raise Http404("the notebook client is not part of this installation")
    if filename != wheel.filename:
        raise Http404(f"no such file: the notebook client is {reverse('client-wheel', args=[wheel.filename])}")
    etag = f'"{wheel.sha256}"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    response = HttpResponse(wheel.data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{wheel.filename}"'
    response["ETag"] = etag
    # Revalidated each time: a redeploy may change the bytes before anyone bumps the version.
    response["Cache-Control"] = "no-cache"
    return response


def with_metadata(template: dict[str, Any], *, exercise: str, site: str) -> dict[str, Any]:
    """A copy of ``template`` that tells the client its exercise and site (the stored one is kept as is)."""
    metadata = dict(template.get("metadata") or {})
    metadata[METADATA_KEY] = {"exercise": exercise, "site": site.rstrip("/")}
    return {**template, "metadata": metadata}


def site_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def page_setup(request: HttpRequest) -> dict[str, str] | None:
    """What the exercise page shows to work in a notebook: the install line and the learner's login line."""
    wheel = client_wheel()
    if wheel is None:
        return None
    token, _ = Token.objects.get_or_create(user=request.user)
    url = request.build_absolute_uri(reverse("client-wheel", args=[wheel.filename]))
    return {
        "install": f"%pip install {url}",
        "login": f'import coursegrade; coursegrade.login("{token.key}")',
        "site": site_url(request),
    }
