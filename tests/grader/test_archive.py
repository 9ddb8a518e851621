import io
import stat
import zipfile

import pytest

from grader.archive import MAX_FILES, ArchiveError, extract_bundle


def _zip(entries: dict[str, bytes], *, symlink: str | None = None, compress: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


TOML = b'slug = "probe"\ntitle = "t"\npoints = 1\n'


@pytest.mark.parametrize(
    ("entries", "module", "where"),
    [
        ({"numpy/probe/exercise.toml": TOML, "numpy/probe/tests/test_a.py": b"x"}, None, "numpy/probe"),
        ({"probe/exercise.toml": TOML, "probe/tests/test_a.py": b"x"}, "numpy", "numpy/probe"),
        ({"exercise.toml": TOML, "tests/test_a.py": b"x"}, "numpy", "numpy/probe"),
    ],
    ids=["module-slug", "one-folder", "flat"],
)
def test_layouts(tmp_path, entries, module, where):
    path = extract_bundle(_zip(entries), tmp_path, module=module)
    assert path == tmp_path / where
    assert (path / "tests" / "test_a.py").read_bytes() == b"x"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04 not really", "not a zip archive"),
        (_zip({"exercise.toml": TOML, "../evil.py": b"x"}), "may not leave the bundle"),
        (_zip({"exercise.toml": TOML, "/etc/cron.d/evil": b"x"}), "absolute paths"),
        (_zip({"exercise.toml": TOML, "a\\..\\b": b"x"}), "absolute paths"),
        (_zip({"exercise.toml": TOML}, symlink="data/link"), "symbolic links"),
        (_zip({"exercise.toml": TOML, "data/zeros": b"\0" * (60 * 2**20)}), "zip bomb"),
        (_zip({"exercise.toml": TOML, **{f"f{i}": b"" for i in range(MAX_FILES + 1)}}), "above the limit of 500"),
        (_zip({"tests/test_a.py": b"x"}), "no exercise.toml"),
        (_zip({"exercise.toml": TOML}), "say which module"),
        (_zip({"exercise.toml": b'slug = "../x"\n'}, compress=zipfile.ZIP_STORED), "no usable slug"),
    ],
    ids=[
        "not-zip",
        "traversal",
        "absolute",
        "backslash",
        "symlink",
        "bomb",
        "too-many",
        "no-toml",
        "no-module",
        "bad-slug",
    ],
)
def test_refused(tmp_path, data, message):
    module = None if "say which module" in message else "numpy"
    with pytest.raises(ArchiveError, match=message):
        extract_bundle(data, tmp_path, module=module)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_oversized_unpacked_content_is_refused(tmp_path):
    import os

    data = _zip(
        {
            "exercise.toml": TOML,
            "data/a": os.urandom(30 * 2**20),
            "data/b": os.urandom(30 * 2**20),
            "data/c": os.urandom(30 * 2**20),
            "data/d": os.urandom(30 * 2**20),
        },
        compress=zipfile.ZIP_STORED,
    )
    with pytest.raises(ArchiveError, match="above the limit"):
        extract_bundle(data, tmp_path, module="numpy")
