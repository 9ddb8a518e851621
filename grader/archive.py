"""Unpacking an uploaded bundle zip safely: no path traversal, links, zip bombs or oversized archives."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

MAX_ARCHIVE_BYTES = 50 * 2**20
MAX_UNPACKED_BYTES = 100 * 2**20
MAX_FILES = 500
# Text compresses about 10x; far beyond that is a bomb, not a bundle.
MAX_RATIO = 200


class ArchiveError(ValueError):
    """The archive is refused; the message says why."""


def extract_bundle(data: bytes, dest: Path, *, module: str | None = None) -> Path:
    """Unpack a bundle zip into ``dest/<module>/<slug>/`` and return that folder.

    The zip holds the bundle at its root, in one folder, or as ``<module>/<slug>/``; without
    the last form, ``module`` must be given.
    """
    if len(data) > MAX_ARCHIVE_BYTES:
        size = len(data) / 2**20
        raise ArchiveError(f"the archive is {size:.1f} MB, above the limit of {MAX_ARCHIVE_BYTES >> 20} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ArchiveError("not a zip archive") from exc
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_FILES:
        raise ArchiveError(f"{len(members)} files, above the limit of {MAX_FILES}")
    names = [_safe_name(m) for m in members]
    toml = sorted((n for n in names if n.name == "exercise.toml"), key=lambda n: len(n.parts))
    if not toml:
        raise ArchiveError("no exercise.toml in the archive")
    root = toml[0].parent
    if len(root.parts) == 2:
        module, slug = root.parts
    elif module is None:
        raise ArchiveError("say which module the bundle belongs to, or zip it as <module>/<slug>/")
    else:
        slug = None
    target_parent = dest / module
    total = 0
    written: list[tuple[PurePosixPath, bytes]] = []
    for member, name in zip(members, names, strict=True):
        if root != PurePosixPath(".") and root not in name.parents:
            continue  # files beside the bundle folder are ignored
        if member.compress_size and member.file_size / member.compress_size > MAX_RATIO:
            raise ArchiveError(f"{name}: compressed {member.file_size / member.compress_size:.0f}:1, a zip bomb?")
        content = _read_bounded(archive, member, MAX_UNPACKED_BYTES - total)
        total += len(content)
        written.append((name.relative_to(root) if root != PurePosixPath(".") else name, content))
    if slug is None:
        import tomllib

        meta = next((c for n, c in written if str(n) == "exercise.toml"), b"")
        try:
            slug = tomllib.loads(meta.decode("utf-8")).get("slug")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ArchiveError(f"exercise.toml: {exc}") from exc
        if not isinstance(slug, str) or not slug or "/" in slug or slug in (".", ".."):
            raise ArchiveError("exercise.toml has no usable slug")
    target = target_parent / slug
    for rel, content in written:
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return target


def _safe_name(member: zipfile.ZipInfo) -> PurePosixPath:
    raw = member.filename
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveError(f"{raw}: symbolic links are not allowed")
    # Many zip tools store permission bits only; a file type, when present, must be a plain file.
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise ArchiveError(f"{raw}: only regular files are allowed")
    if "\\" in raw or raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise ArchiveError(f"{raw}: absolute paths are not allowed")
    name = PurePosixPath(raw)
    if any(part in ("..", "") for part in name.parts) or not name.parts:
        raise ArchiveError(f"{raw}: paths may not leave the bundle")
    return name


def _read_bounded(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int) -> bytes:
    """Read a member, trusting the bytes that come out rather than the sizes the header claims."""
    if member.file_size > budget:
        raise ArchiveError(f"unpacked, the archive is above the limit of {MAX_UNPACKED_BYTES >> 20} MB")
    with archive.open(member) as f:
        content = f.read(budget + 1)
    if len(content) > budget:
        raise ArchiveError(f"unpacked, the archive is above the limit of {MAX_UNPACKED_BYTES >> 20} MB")
    return content
