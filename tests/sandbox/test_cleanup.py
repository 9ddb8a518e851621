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
from sandbox.driver import LABEL, RUNNER_UID, gradings_of, owner_label, reap_stale, remove, wait_removals
from tests.sandbox.support import ADD_TEST, FAST, RIGHT_ADD, grade_bounded, no_leftovers
from tests.support import ROOT, notebook

pytestmark = pytest.mark.docker


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
    # The gradings of this test are this process's and its killed children's: only theirs are
    # counted, whatever else grades on this Docker engine meanwhile.
    owners = [owner_label()]
    reap_stale()
    wait_removals()  # earlier tests' gradings, removed in the background
    assert gradings_of(*owners) == set()
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
        owners.append(owner_label(proc.pid))
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
    assert len(owners) == 21
    # A terminated grading cleans up after itself; only SIGKILLed ones can leave anything.
    wait_removals()  # this process's own, removed in the background once graded
    left = gradings_of(*owners)
    assert len(left) <= 10
    assert reap_stale() >= 0
    assert gradings_of(*owners) == set()


def test_reaper_spares_live_gradings(make_bundle, sandbox_settings):
    bundle = make_bundle("def test_add(student):\n    assert student.add(2, 3) == 5\n")
    slow = notebook("import time\ntime.sleep(3)", "def add(a, b):\n    return a + b")
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(grade, bundle, slow, sandbox_settings)
        time.sleep(1.5)
        reap_stale()  # the grading's owner (this process) is alive and within its deadline
        result = future.result()
    assert result.score == 1.0
    wait_removals()
    assert gradings_of(owner_label()) == set()


def _labelled(client: docker.DockerClient, image: str, grading_id: str, owner: str, deadline: float) -> None:
    """A container (created, never started) and a volume labelled as ``owner``'s objects of one grading."""
    labels = {LABEL: "1", f"{LABEL}.id": grading_id, f"{LABEL}.owner": owner, f"{LABEL}.deadline": str(int(deadline))}
    client.containers.create(image, ["true"], name=f"{grading_id}-kernel", labels=labels, network_mode="none")
    client.volumes.create(f"{grading_id}-kin", labels=labels)


def _present(client: docker.DockerClient, grading_id: str) -> tuple[int, int]:
    """How many containers and volumes of ``grading_id`` are on this Docker host."""
    selector = {"label": f"{LABEL}.id={grading_id}"}
    return len(client.api.containers(all=True, filters=selector)), len(client.volumes.list(filters=selector))


def test_another_hosts_objects_are_not_leftovers_and_never_reaped(make_bundle, sandbox_settings):
    """Another machine's worker grading on this engine (a shared Docker host): within its deadline
    its objects count as nobody's leftovers here, and neither a grading's reaper nor ours removes them."""
    client = docker.from_env()
    foreign = f"foreign-{uuid.uuid4().hex[:12]}"
    try:
        _labelled(client, sandbox_settings.image, foreign, "otherhost:1:1", time.time() + 3600)
        assert no_leftovers()
        result = grade_bounded(make_bundle(ADD_TEST, limits=FAST), notebook(RIGHT_ADD), sandbox_settings)
        assert result.score == 1.0
        reap_stale()
        assert _present(client, foreign) == (1, 1)
        assert foreign not in gradings_of(owner_label())
    finally:
        remove(client, foreign)


def test_the_leftover_check_sees_this_process_objects(sandbox_settings):
    """Counting only our own objects still catches ours: what a grading of this process left fails it."""
    client = docker.from_env()
    ours = f"ours-{uuid.uuid4().hex[:12]}"
    try:
        _labelled(client, sandbox_settings.image, ours, owner_label(), time.time() + 3600)
        assert not no_leftovers()
        assert ours in gradings_of(owner_label())
    finally:
        remove(client, ours)
    assert no_leftovers()


def test_reaper_spares_another_live_process_of_this_host(sandbox_settings):
    """A second worker on this host keeps its objects while it runs, even past their deadline (a
    slow start on a busy machine); once it is gone they are stale, and so are those of a process
    that had the same pid before (another start time)."""
    client = docker.from_env()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    alive, late, reused = (f"other-{name}-{uuid.uuid4().hex[:8]}" for name in ("alive", "late", "reused"))
    try:
        owner = owner_label(other.pid)
        host, pid, start = owner.split(":")
        _labelled(client, sandbox_settings.image, alive, owner, time.time() + 3600)
        _labelled(client, sandbox_settings.image, late, owner, time.time() - 1)
        _labelled(client, sandbox_settings.image, reused, f"{host}:{pid}:{int(start) + 1}", time.time() + 3600)
        reap_stale()
        assert (_present(client, alive), _present(client, late)) == ((1, 1), (1, 1))
        assert _present(client, reused) == (0, 0)
        other.kill()
        other.wait(timeout=30)
        reap_stale()
        assert (_present(client, alive), _present(client, late)) == ((0, 0), (0, 0))
    finally:
        other.kill()
        other.wait(timeout=30)
        for grading_id in (alive, late, reused):
            remove(client, grading_id)


def test_another_hosts_objects_go_after_their_deadline(sandbox_settings):
    """Another host's worker cannot be seen from here: its deadline is all that tells it is gone."""
    client = docker.from_env()
    foreign = f"foreign-{uuid.uuid4().hex[:12]}"
    try:
        _labelled(client, sandbox_settings.image, foreign, "otherhost:1:1", time.time() - 1)
        reap_stale()
        assert _present(client, foreign) == (0, 0)
    finally:
        remove(client, foreign)
