import pytest

from grader.bundle import BundleError, content_hash, load_bundle
from tests.support import EXERCISES, write_bundle


def test_shipped_bundles_load():
    bundles = [load_bundle(p.parent) for p in EXERCISES.glob("*/*/exercise.toml")]
    assert {b.module for b in bundles} >= {"numpy", "einops-einsum"}
    for bundle in bundles:
        assert bundle.test_files()
        assert (bundle.path / "solution.ipynb").is_file()


def test_limits_come_from_exercise_toml(tmp_path):
    bundle = load_bundle(write_bundle(tmp_path, "def test_x(): pass\n", limits={"timeout_s": 7}, gpu="optional"))
    assert bundle.limits.timeout_s == 7.0
    assert bundle.gpu == "optional"
    assert bundle.module == "testing"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('slug = "probe"\ntitle = "t"\n', "missing required key 'points'"),
        ('slug = "probe"\ntitle = "t"\npoints = 1\ncolour = "red"\n', "unknown key 'colour'"),
        ('slug = "probe"\ntitle = "t"\npoints = "ten"\n', "points must be int or float"),
        ('slug = "probe"\ntitle = "t"\npoints = 1\ngpu = "yes"\n', "gpu must be one of"),
        ('slug = "other"\ntitle = "t"\npoints = 1\n', "does not match the folder name"),
        ('slug = "probe"\ntitle = "t"\npoints = 1\n[limits]\nmemory_mb = 999999\n', "above the maximum"),
        ('slug = "probe"\ntitle = = "t"\n', "not valid TOML"),
    ],
)
def test_bad_metadata_names_file_and_key(tmp_path, toml, message):
    path = write_bundle(tmp_path, "def test_x(): pass\n", slug="probe")
    (path / "exercise.toml").write_text(toml)
    with pytest.raises(BundleError, match=message) as info:
        load_bundle(path)
    assert "exercise.toml" in str(info.value)


def test_bundle_without_tests_is_refused(tmp_path):
    path = write_bundle(tmp_path, "", slug="probe")
    (path / "tests" / "test_probe.py").unlink()
    with pytest.raises(BundleError, match="no test_"):
        load_bundle(path)


def test_content_hash_follows_content_only(tmp_path):
    a = write_bundle(tmp_path / "a", "def test_x(): pass\n", slug="probe")
    b = write_bundle(tmp_path / "b", "def test_x(): pass\n", slug="probe")
    assert content_hash(a) == content_hash(b)
    (b / "__pycache__").mkdir()
    (b / "__pycache__" / "x.pyc").write_bytes(b"junk")
    assert content_hash(a) == content_hash(b)
    (b / "tests" / "test_probe.py").write_text("def test_y(): pass\n")
    assert content_hash(a) != content_hash(b)


def test_symlinks_are_refused(tmp_path):
    path = write_bundle(tmp_path, "def test_x(): pass\n", slug="probe")
    (path / "data").mkdir()
    (path / "data" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(BundleError, match="symbolic links"):
        content_hash(path)


def _shared_bundle(root, *, shared='["toy_model"]'):
    exercises = root / "exercises"
    (exercises / "_shared" / "toy_model").mkdir(parents=True, exist_ok=True)
    (exercises / "_shared" / "toy_model" / "__init__.py").write_text("WEIGHTS = 'weights.bin'\n")
    (exercises / "_shared" / "toy_model" / "weights.bin").write_bytes(b"\x00\x01")
    path = write_bundle(exercises, "def test_x(): pass\n", slug="uses-model")
    toml = path / "exercise.toml"
    toml.write_text(f"shared = {shared}\n" + toml.read_text())
    return path


def test_shared_course_files_are_bundle_data_and_part_of_its_hash(tmp_path):
    bundle = load_bundle(_shared_bundle(tmp_path))
    assert sorted(bundle.data_map()) == ["toy_model/__init__.py", "toy_model/weights.bin"]
    assert "data/toy_model/weights.bin" in bundle.content_map()
    before = bundle.content_hash()
    (tmp_path / "exercises" / "_shared" / "toy_model" / "weights.bin").write_bytes(b"\x00\x02")
    assert load_bundle(bundle.path).content_hash() != before


def test_a_copy_with_the_shared_files_as_data_stands_alone_with_the_same_hash(tmp_path):
    bundle = load_bundle(_shared_bundle(tmp_path))
    copy = tmp_path / "snapshot" / "testing" / "uses-model"
    for rel, src in bundle.content_map().items():
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_bytes(src.read_bytes())
    alone = load_bundle(copy)
    assert alone.shared == () and alone.content_hash() == bundle.content_hash()
    assert sorted(alone.data_map()) == sorted(bundle.data_map())


def test_missing_or_hidden_shared_folders_are_named(tmp_path):
    with pytest.raises(BundleError, match="shared folder 'nowhere' not found"):
        load_bundle(_shared_bundle(tmp_path / "a", shared='["nowhere"]'))
    with pytest.raises(BundleError, match="must be folder names"):
        load_bundle(_shared_bundle(tmp_path / "b", shared='["../etc"]'))
    path = _shared_bundle(tmp_path / "c")
    (path / "data" / "toy_model").mkdir(parents=True)
    with pytest.raises(BundleError, match="data/toy_model would hide the shared folder"):
        load_bundle(path)
