"""Warm sandboxes (sandbox/pool.py): ready pairs per shape, each serving exactly one grading, with
every limit and guarantee of a pair started for its grading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import docker.errors
import pytest

from grader.bundle import load_bundle
from grader.engine import grade, sandbox_job
from grader.result import Verdict
from sandbox import driver, pool
from sandbox.pool import PoolSettings, parse_pairs
from tests.sandbox.support import RIGHT_ADD, WRONG_ADD, no_leftovers
from tests.support import ROOT, notebook, wait_for

pytestmark = pytest.mark.docker


@pytest.fixture
def warm_pool():
    """Install a pool in this process for the test, with ``settings``; removed with its pairs afterwards."""

    def install(settings: PoolSettings | None = None) -> pool.WarmPool:
        installed = pool.install(settings or PoolSettings())
        assert installed is not None
        return installed

    yield install
    pool.uninstall()


def _shape(bundle, settings):
    return sandbox_job(load_bundle(bundle), settings, b"").shape


def _warm_pairs(warm: pool.WarmPool) -> list[driver.Pair]:
    with warm._cond:
        return [p for pairs in warm._idle.values() for p in pairs if p.warm]


def _warm_for(bundle, sandbox_settings, warm_pool) -> pool.WarmPool:
    """A pool with one warm pair of ``bundle``'s shape."""
    warm = warm_pool()
    warm.expect(_shape(bundle, sandbox_settings), "base")
    _ready(warm)
    return warm


def _ready(warm: pool.WarmPool, count: int = 1) -> list[driver.Pair]:
    wait_for(lambda: len(_warm_pairs(warm)) >= count, 90, "the pool never had a warm pair")
    return _warm_pairs(warm)


def test_a_warm_pair_serves_one_grading_and_the_pool_refills(add_bundle, sandbox_settings, warm_pool):
    warm = warm_pool()
    warm.expect(_shape(add_bundle, sandbox_settings), "base")
    (first,) = _ready(warm)
    right = grade(add_bundle, notebook(RIGHT_ADD), sandbox_settings)
    assert (right.verdict, right.score, right.timings["warm"]) == (Verdict.GRADED, 1.0, 1.0)
    assert "container_start" not in right.timings and right.timings["pair_age"] > 0
    driver.wait_removals()
    assert first.name not in driver.gradings_of(driver.owner_label())  # used once, then removed
    (second,) = _ready(warm)
    assert second.name != first.name
    wrong = grade(add_bundle, notebook(WRONG_ADD), sandbox_settings)
    assert (wrong.score, wrong.timings["warm"]) == (0.0, 1.0)
    pool.uninstall()
    assert no_leftovers()


def test_a_pair_holds_nothing_of_a_grading_before_its_claim(add_bundle, sandbox_settings):
    pair = driver.start_pair(_shape(add_bundle, sandbox_settings))
    try:
        wait_for(lambda: driver.is_warm(pair), 90, "the pair never became warm")
        for container, path in ((pair.judge, "/bundle/tests"), (pair.kernel, "/input/submission.ipynb")):
            with pytest.raises(docker.errors.NotFound):
                container.get_archive(path)
        judge_env = " ".join(pair.judge.attrs["Config"]["Env"])
        assert "nonce" not in judge_env and "test_timeout_s" not in judge_env
    finally:
        driver.remove(driver.docker_client(), pair.name)


def test_one_learners_run_never_meets_anothers(add_bundle, sandbox_settings, warm_pool):
    warm = warm_pool(PoolSettings(pairs={"*": 2}))
    warm.expect(_shape(add_bundle, sandbox_settings), "base")
    _ready(warm, 2)
    leaves = notebook(
        "import builtins, os, threading\n"
        "open('/tmp/left-behind', 'w').write('x'); open('left-behind', 'w').write('x')\n"
        "builtins.LEFT = 1\nthreading.Thread(target=__import__('time').sleep, args=(600,), daemon=True).start()",
        RIGHT_ADD,
    )
    assert grade(add_bundle, leaves, sandbox_settings).score == 1.0
    finds = notebook(
        "import builtins, os\n"
        "def add(a, b):\n"
        "    seen = os.path.exists('/tmp/left-behind') or os.path.exists('left-behind') or hasattr(builtins, 'LEFT')\n"
        "    return 0 if seen else a + b"
    )
    result = grade(add_bundle, finds, sandbox_settings)
    assert (result.score, result.timings["warm"]) == (1.0, 1.0)


# As in test_attacks.py, in a warm pair: the learner's clock starts when the job arrives.
@pytest.mark.parametrize(
    ("cells", "verdicts", "score"),
    [
        ((RIGHT_ADD, "while True:\n    pass", "x = 1"), {Verdict.TIMEOUT}, 1.0),
        ((WRONG_ADD, "hog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))"), {Verdict.MEMORY_EXCEEDED}, 0.0),
        (
            (WRONG_ADD, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"),
            {Verdict.TIMEOUT, Verdict.CRASHED, Verdict.MEMORY_EXCEEDED},
            0.0,
        ),
    ],
    ids=["endless-cell", "all-memory", "fork-bomb"],
)
def test_limits_hold_in_a_warm_pair(add_bundle, sandbox_settings, warm_pool, cells, verdicts, score):
    _warm_for(add_bundle, sandbox_settings, warm_pool)
    result = grade(add_bundle, notebook(*cells), sandbox_settings)
    assert result.timings["warm"] == 1.0
    assert result.verdict in verdicts and result.score == score
    if "while True:\n    pass" in cells:
        assert [c.status for c in result.cells] == ["ok", "timeout", "ok"]


def test_reading_the_tests_from_a_warm_kernel_finds_nothing(make_bundle, sandbox_settings, warm_pool):
    bundle = make_bundle("SECRET = 'hidden-7f3a'\n\ndef test_add(student):\n    assert student.add(2, 3) == 5\n")
    _warm_for(bundle, sandbox_settings, warm_pool)
    snoop = notebook(
        "import subprocess\n"
        # A pattern that matches neither this cell nor grep's own command line.
        "places = '/input /tmp /ipc /status /bundle /run /var /dev/shm /opt/runtime'\n"
        "found = subprocess.run(f'grep -rlE hidden-7f3[a] {places} 2>/dev/null', shell=True,"
        " capture_output=True, text=True).stdout\n"
        "def add(a, b):\n    return a + b if not found else 0"
    )
    result = grade(bundle, snoop, sandbox_settings)
    assert (result.score, result.timings["warm"]) == (1.0, 1.0)
    assert "hidden-7f3a" not in result.to_json()


def test_a_job_of_another_shape_starts_its_own_pair(make_bundle, sandbox_settings, warm_pool):
    default = make_bundle("def test_add(student):\n    assert student.add(2, 3) == 5\n")
    bigger = make_bundle("def test_add(student):\n    assert student.add(2, 3) == 5\n", limits={"memory_mb": 1024})
    _warm_for(default, sandbox_settings, warm_pool)
    result = grade(bigger, notebook(RIGHT_ADD), sandbox_settings)
    assert result.score == 1.0 and "warm" not in result.timings and result.timings["container_start"] > 0


def test_nothing_is_kept_warm_beyond_the_memory_budget(add_bundle, sandbox_settings, warm_pool):
    warm = warm_pool(PoolSettings(memory_mb=1))
    warm.expect(_shape(add_bundle, sandbox_settings), "base")
    result = grade(add_bundle, notebook(RIGHT_ADD), sandbox_settings)
    assert result.score == 1.0 and "warm" not in result.timings
    assert warm.idle() == {}


def test_idle_pairs_are_replaced(add_bundle, sandbox_settings, warm_pool):
    warm = warm_pool(PoolSettings(max_idle_s=4))
    warm.expect(_shape(add_bundle, sandbox_settings), "base")
    (first,) = _ready(warm)
    wait_for(lambda: first.name not in {p.name for p in _warm_pairs(warm)} and _warm_pairs(warm), 90, "never recycled")
    driver.wait_removals()
    assert first.name not in driver.gradings_of(driver.owner_label())


def test_an_unclaimed_pair_ends_itself(add_bundle, sandbox_settings):
    pair = driver.start_pair(_shape(add_bundle, sandbox_settings), claim_wait_s=1)
    try:

        def exited() -> bool:
            for container in (pair.kernel, pair.judge):
                container.reload()
            return all(c.status == "exited" for c in (pair.kernel, pair.judge))

        wait_for(exited, 90, "the unclaimed pair is still running")
        assert driver.is_warm(pair)  # it was warm, and then waited for a job that never came
        assert [c.attrs["State"]["ExitCode"] for c in (pair.kernel, pair.judge)] == [0, 0]
    finally:
        driver.remove(driver.docker_client(), pair.name)


def test_the_pool_of_a_killed_worker_is_reaped(add_bundle, sandbox_settings):
    script = textwrap.dedent(
        f"""
        import sys, time
        from grader.bundle import load_bundle
        from grader.engine import EngineSettings, sandbox_job
        from sandbox import pool
        settings = EngineSettings(image={sandbox_settings.image!r})
        warm = pool.install(pool.PoolSettings())
        warm.expect(sandbox_job(load_bundle({str(add_bundle)!r}), settings, b"").shape, "base")
        while not warm.idle():
            time.sleep(0.1)
        print("ready", flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE
    )
    try:
        owner = driver.owner_label(proc.pid)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        assert driver.gradings_of(owner)
        driver.reap_stale()
        assert driver.gradings_of(owner)  # its owner lives: its pool is its own
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    driver.reap_stale()
    assert driver.gradings_of(owner) == set()


@pytest.mark.parametrize(
    ("text", "pairs"),
    [("1", {"*": 1}), ("0", {"*": 0}), ("base=2, mi=1", {"base": 2, "mi": 1}), ("", {})],
)
def test_pool_sizes_per_environment(text, pairs):
    assert parse_pairs(text) == pairs


@pytest.mark.parametrize("text", ["-1", "base", "base=x", "=2"])
def test_bad_pool_sizes_are_refused(text):
    with pytest.raises(ValueError):
        parse_pairs(text)


def test_pool_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_WARM_PAIRS", "base=2")
    monkeypatch.setenv("SANDBOX_WARM_MEMORY_MB", "1500")
    settings = PoolSettings.from_env()
    assert settings.pairs_for("base") == 2 and settings.pairs_for("mi") == 0 and settings.memory_mb == 1500
    monkeypatch.setenv("SANDBOX_WARM_PAIRS", "0")
    assert not PoolSettings.from_env().enabled
