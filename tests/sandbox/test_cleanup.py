"""Concurrent gradings stay apart, and nothing is left behind, even when gradings are killed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest

from grader.engine import grade
from grader.result import Verdict
from sandbox.driver import LABEL, RUNNER_UID, reap_stale
from tests.conftest import ROOT, notebook

pytestmark = pytest.mark.docker


def _leftover_ids() -> set[str]:
    client = docker.from_env()
    ids = {c.labels.get(f"{LABEL}.id") for c in client.containers.list(all=True, filters={"label": LABEL})}
    ids |= {(v.attrs.get("Labels") or {}).get(f"{LABEL}.id") for v in client.volumes.list(filters={"label": LABEL})}
    return ids


ISOLATION_TEST = """
def test_sees_nothing_of_the_other_grading(student):
    assert student.foreign() == []

def test_sees_no_other_process(student):
    assert student.other_users() == []
"""


def _isolation_notebook(mark: str) -> bytes:
    return notebook(
        f"""
        import os, time
        MARK = "{mark}"
        for d in ["/tmp", "/tmp/work", "/ipc"]:
            try:
                open(os.path.join(d, "mark-" + MARK), "w").write(MARK)
            except OSError:
                pass
        time.sleep(2)

        def foreign():
            seen = []
            for d in ["/tmp", "/tmp/work", "/ipc", "/input"]:
                for name in os.listdir(d):
                    if name.startswith("mark-") and name != "mark-" + MARK:
                        seen.append(os.path.join(d, name))
            return seen

        def other_users():
            uids = set()
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    for line in open(f"/proc/{{pid}}/status"):
                        if line.startswith("Uid:"):
                            uids.add(int(line.split()[1]))
                except OSError:
                    pass
            return sorted(uids - {{os.getuid(), {RUNNER_UID}}})  # our own driver runs as the runner
        """
    )


def test_two_gradings_at_once_never_see_each_other(make_bundle, sandbox_settings):
    bundle = make_bundle(ISOLATION_TEST)
    marks = [uuid.uuid4().hex for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda m: grade(bundle, _isolation_notebook(m), sandbox_settings), marks))
    for result in results:
        assert result.verdict == Verdict.GRADED
        assert [t.status for t in result.tests] == ["passed", "passed"], result.tests


def test_fifty_gradings_some_killed_leave_nothing_behind(make_bundle, sandbox_settings):
    reap_stale()
    before = _leftover_ids()
    assert before == set()
    bundle = make_bundle("def test_add(student):\n    assert student.add(2, 3) == 5\n")
    quick = notebook("def add(a, b):\n    return a + b")
    slow = notebook("import time\ntime.sleep(4)", "def add(a, b):\n    return a + b")
    nb_path = bundle / "slow.ipynb"
    nb_path.write_bytes(slow)
    env = dict(os.environ, SANDBOX_IMAGE=sandbox_settings.image, PYTHONPATH=str(ROOT))
    rng = random.Random(0)

    def killed(sig: signal.Signals) -> int:
        proc = subprocess.Popen(
            [sys.executable, "-m", "grader", str(bundle), str(nb_path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        time.sleep(rng.uniform(1.0, 3.0))
        proc.send_signal(sig)
        return proc.wait(timeout=60)

    signals = [signal.SIGTERM] * 10 + [signal.SIGKILL] * 10
    with ThreadPoolExecutor(2) as pool:
        graded = pool.map(lambda _: grade(bundle, quick, sandbox_settings), range(30))
        exits = pool.map(killed, signals)
        scores = [r.score for r in graded]
        codes = list(exits)
    assert scores == [1.0] * 30
    assert codes.count(-signal.SIGKILL) == 10
    # A terminated grading cleans up after itself; only SIGKILLed ones can leave anything.
    left = _leftover_ids()
    assert len(left) <= 10
    assert reap_stale() >= 0
    assert _leftover_ids() == set()


def test_reaper_spares_live_gradings(make_bundle, sandbox_settings):
    bundle = make_bundle("def test_add(student):\n    assert student.add(2, 3) == 5\n")
    slow = notebook("import time\ntime.sleep(3)", "def add(a, b):\n    return a + b")
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(grade, bundle, slow, sandbox_settings)
        time.sleep(1.5)
        reap_stale()  # the grading's owner (this process) is alive and within its deadline
        result = future.result()
    assert result.score == 1.0
    assert _leftover_ids() == set()
