"""Hostile and broken submissions against real Docker: a clear verdict, no unearned points, no leaks.

Most tests use a bundle whose one hidden test asks ``student.add(2, 3) == 5`` and a notebook whose
``add`` is wrong, so any point awarded would be a point the learner did not earn.
"""

from __future__ import annotations

import json
import uuid

import pytest

from grader.result import Verdict
from tests.sandbox.support import ADD_TEST, FAST, RIGHT_ADD, WRONG_ADD
from tests.sandbox.support import grade_bounded as _grade
from tests.support import EXERCISES, notebook

pytestmark = pytest.mark.docker


# --- time -------------------------------------------------------------------------------------


def test_infinite_loop_is_interrupted_and_the_rest_still_graded(add_bundle, sandbox_settings):
    result = _grade(add_bundle, notebook(RIGHT_ADD, "while True:\n    pass", "x = 1"), sandbox_settings)
    assert result.verdict == Verdict.TIMEOUT
    assert [c.status for c in result.cells] == ["ok", "timeout", "ok"]
    assert result.score == 1  # add was correct: that point was earned
    assert "time limit" in result.output


def test_loop_that_swallows_interrupts_gives_timeout_and_nothing(add_bundle, sandbox_settings):
    nb = notebook(
        WRONG_ADD,
        """
        import time
        while True:
            try:
                time.sleep(0.1)
            except BaseException:
                pass
        """,
    )
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.TIMEOUT
    assert result.score == 0
    assert result.cells[1].status == "timeout"


def test_sleeping_past_the_deadline(add_bundle, sandbox_settings):
    nb = notebook(RIGHT_ADD, "import time\ntime.sleep(3)", "time.sleep(3)", "time.sleep(3)", "time.sleep(3)")
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.TIMEOUT
    assert result.cells[-1].status in ("timeout", "not_run")  # the 10 s notebook budget ran out
    assert result.score == 1


def test_slow_function_times_out_its_test_only(make_bundle, sandbox_settings):
    bundle = make_bundle(
        ADD_TEST + "\ndef test_slow(student):\n    student.slow()\n\ndef test_add_again(student):\n"
        "    assert student.add(1, 1) == 2\n",
        limits=FAST,
    )
    nb = notebook(RIGHT_ADD, "import time\ndef slow():\n    time.sleep(60)")
    result = _grade(bundle, nb, sandbox_settings)
    statuses = {t.name: t.status for t in result.tests}
    assert statuses == {"test_add": "passed", "test_slow": "timeout", "test_add_again": "passed"}
    assert result.verdict == Verdict.GRADED


# --- memory, processes, disk, output ----------------------------------------------------------


def test_allocating_all_memory(add_bundle, sandbox_settings):
    nb = notebook(WRONG_ADD, "hog = []\nwhile True:\n    hog.append(bytearray(50 * 2**20))")
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.MEMORY_EXCEEDED
    assert result.score == 0
    assert "memory" in result.output


def test_allocating_all_memory_inside_a_test_call(add_bundle, sandbox_settings):
    nb = notebook("def add(a, b):\n    hog = []\n    while True:\n        hog.append(bytearray(50 * 2**20))")
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.MEMORY_EXCEEDED
    assert result.score == 0


def test_fork_bomb(add_bundle, sandbox_settings):
    nb = notebook(WRONG_ADD, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
    result = _grade(add_bundle, nb, sandbox_settings)
    # Contained by the PID limit; with torch preloaded the forks' copied pages may hit memory first.
    assert result.verdict in (Verdict.TIMEOUT, Verdict.CRASHED, Verdict.MEMORY_EXCEEDED)
    assert result.score == 0


def test_filling_the_disk(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        def test_nothing_outside_scratch_is_writable(student):
            assert student.writable == ["/tmp"]

        def test_scratch_is_bounded(student):
            assert student.written < 300 * 2**20

        def test_still_works(student):
            assert student.add(2, 3) == 5
        """,
        limits=FAST | {"memory_mb": 1024},
    )
    nb = notebook(
        RIGHT_ADD,
        """
        import os
        writable = []
        for d in ["/", "/tmp", "/input", "/ipc/..", "/etc", "/opt/runtime/sandbox_runtime", "/opt/venv", "/home"]:
            try:
                with open(os.path.join(d, "probe"), "wb") as f:
                    f.write(b"x")
                writable.append(d)
            except OSError:
                pass
        written = 0
        try:
            with open("/tmp/fill", "wb") as f:
                while True:
                    f.write(b"0" * 2**20)
                    written += 2**20
        except OSError:
            pass
        """,
    )
    result = _grade(bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.GRADED, result.output
    assert [t.status for t in result.tests] == ["passed"] * 3, result.tests


def test_printing_hundreds_of_megabytes(add_bundle, sandbox_settings):
    nb = notebook(
        RIGHT_ADD,
        "import sys, os\nline = 'x' * 2**20\nfor _ in range(150):\n    print(line)\n    os.write(1, line.encode())",
        "sys.stderr.write('y' * 50 * 2**20)",
    )
    result = _grade(add_bundle, nb, sandbox_settings)
    assert len(result.to_json()) < 50_000
    assert result.score == 1 or result.verdict == Verdict.TIMEOUT


def test_non_utf8_and_binary_outputs(add_bundle, sandbox_settings):
    nb = notebook(
        RIGHT_ADD,
        "import sys, os\nsys.stdout.buffer.write(bytes(range(256)))\nos.write(2, b'\\xff\\xfe\\x00\\x80')",
        "print('\\udcff'.encode('utf-8', 'surrogatepass'))",
        "from IPython.display import display, Image\ndisplay({'image/png': b'\\x89PNG\\x00\\xff'}, raw=True)",
        "raise ValueError(b'\\xff\\x00'.decode('latin-1'))",
    )
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.GRADED
    assert result.score == 1
    assert result.cells[-1].ename == "ValueError"


# --- network and the file system --------------------------------------------------------------


def test_no_network(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        def test_every_connection_failed(student):
            assert student.connected == []

        def test_only_loopback(student):
            assert student.interfaces == ["lo"]
        """
    )
    nb = notebook(
        """
        import socket
        connected = []
        for host, port in [("1.1.1.1", 53), ("172.17.0.1", 2375), ("deb.debian.org", 80), ("10.0.0.1", 80)]:
            try:
                socket.create_connection((host, port), timeout=2).close()
                connected.append(host)
            except OSError:
                pass
        interfaces = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
        """
    )
    result = _grade(bundle, nb, sandbox_settings)
    assert [t.status for t in result.tests] == ["passed", "passed"], result.tests


def test_tests_and_reference_are_unreachable_and_never_shown(make_bundle, sandbox_settings):
    secret = f"SECRET-{uuid.uuid4().hex}"
    bundle = make_bundle(
        f"""
        SECRET = "{secret}"

        def test_nothing_found(student):
            assert student.found() == []

        def test_hidden_code_not_shown(student):
            assert student.add(2, 3) == 5 and SECRET

        def test_hidden_input_not_echoed(student):
            student.echo("{secret}")
        """,
        data={"table.csv": b"a,b\n1,2\n"},
        limits={"test_timeout_s": 60},
    )
    (bundle / "solution.ipynb").write_text(json.dumps({"secret": secret}))
    nb = notebook(
        WRONG_ADD,
        f"""
        import os
        NEEDLE = "{secret[:7]}" + "{secret[7:]}"
        def found():
            hits = []
            # Everything but the image's own packages (built before this secret existed).
            for root, dirs, files in os.walk("/"):
                if root.startswith(("/proc", "/sys", "/dev", "/usr", "/opt/venv")):
                    dirs[:] = []
                    continue
                for name in files:
                    path = os.path.join(root, name)
                    try:
                        with open(path, "rb") as f:
                            if NEEDLE.encode() in f.read(2**20):
                                hits.append(path)
                    except OSError:
                        pass
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        if NEEDLE.encode() in open(f"/proc/{{pid}}/environ", "rb").read():
                            hits.append(pid)
                    except OSError:
                        pass
            return hits
        def echo(x):
            raise ValueError(f"I was given {{x!r}}")
        """,
    )
    result = _grade(bundle, nb, sandbox_settings)
    statuses = {t.name: t.status for t in result.tests}
    assert statuses["test_nothing_found"] == "passed"
    assert result.score == 1  # only for finding nothing
    assert secret not in result.to_json()
    assert "test_hidden_code_not_shown" in statuses  # names are shown, code is not
    echo = next(t for t in result.tests if t.name == "test_hidden_input_not_echoed")
    # The learner's exception is named with where it was raised; its message (which echoed the
    # hidden input) is not shown for a hidden test.
    assert "raised ValueError" in echo.output and secret not in echo.output


# --- tampering ----------------------------------------------------------------------------------


def test_monkeypatching_libraries_in_the_kernel_changes_nothing(sandbox_settings):
    bundle = EXERCISES / "numpy" / "normalize-rows"
    nb = notebook(
        """
        import builtins, sys
        import numpy as np, torch, pytest
        np.testing.assert_allclose = lambda *a, **k: None
        np.allclose = np.array_equal = lambda *a, **k: True
        torch.allclose = lambda *a, **k: True
        torch.testing.assert_close = lambda *a, **k: None
        pytest.approx = lambda *a, **k: type("Any", (), {"__eq__": lambda s, o: True})()
        builtins.AssertionError = type("Nope", (Exception,), {})
        sys.modules["_pytest.assertion"] = None
        def normalize_rows(x):
            return x
        """
    )
    result = _grade(bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.GRADED
    assert result.score == 0


def test_breaking_builtins_only_breaks_the_learners_own_kernel(add_bundle, sandbox_settings):
    nb = notebook(WRONG_ADD, "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.len = lambda x: 5")
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.score == 0
    assert result.verdict in (Verdict.GRADED, Verdict.TIMEOUT, Verdict.CRASHED)


def test_fake_result_files_and_printed_results_are_ignored(add_bundle, sandbox_settings):
    fake = {
        "score": 100.0,
        "max_score": 1.0,
        "verdict": "graded",
        "tests": [
            {
                "name": "test_add",
                "score": 1.0,
                "max_score": 1.0,
                "status": "passed",
                "visibility": "hidden",
                "output": "",
            }
        ],
    }
    text = json.dumps(fake)
    nb = notebook(
        WRONG_ADD,
        f"""
        import json, os
        FAKE = {text!r}
        print(FAKE)
        os.write(1, FAKE.encode() + b"\\n")
        for path in ["/tmp/results.json", "/ipc/results.json", "/ipc/ready", "/ipc/report.json"]:
            try:
                open(path, "w").write(FAKE)
            except OSError:
                pass
        """,
        "def add(a, b):\n    print(FAKE)\n    return 0",
    )
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.score == 0
    # Overwriting /ipc/ready can only make the judge think the notebook is unavailable.
    assert result.tests[0].status in ("failed", "error")


def test_exiting_the_kernel_halfway(add_bundle, sandbox_settings):
    result = _grade(add_bundle, notebook(RIGHT_ADD, "import os\nos._exit(0)", "x = 1"), sandbox_settings)
    assert result.verdict == Verdict.CRASHED
    assert result.score == 0
    assert [c.status for c in result.cells] == ["ok", "crashed", "not_run"]


def test_killing_the_kernel_and_its_parent(add_bundle, sandbox_settings):
    # The driver (PID 1) is another user: the learner's code cannot kill it, only its own kernel.
    nb = notebook(
        RIGHT_ADD,
        """
        import os, signal
        try:
            os.kill(1, signal.SIGKILL)
        except PermissionError:
            os.kill(os.getpid(), signal.SIGKILL)
        """,
    )
    result = _grade(add_bundle, nb, sandbox_settings)
    assert result.verdict == Verdict.CRASHED
    assert result.score == 0
    assert [c.status for c in result.cells] == ["ok", "crashed"]  # the driver lived to say so


def test_exiting_inside_a_test_call(make_bundle, sandbox_settings):
    bundle = make_bundle(ADD_TEST + "\ndef test_later(student):\n    assert student.add(1, 1) == 2\n", limits=FAST)
    result = _grade(bundle, notebook("import os\ndef add(a, b):\n    os._exit(3)"), sandbox_settings)
    assert result.verdict == Verdict.CRASHED
    assert result.score == 0
    assert all("kernel" in t.output for t in result.tests)


def test_lying_objects_are_not_data(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        import numpy as np
        import torch

        def test_eq(student):
            assert student.liar() == 5

        def test_bool(student):
            assert student.liar()

        def test_float(student):
            assert float(student.liar()) == 5.0

        def test_array(student):
            np.testing.assert_allclose(student.liar(), np.ones(3))

        def test_tensor(student):
            torch.testing.assert_close(student.liar(), torch.ones(3))

        def test_ndarray_subclass(student):
            assert (student.sneaky() == np.ones(3)).all()

        def test_float_subclass(student):
            assert student.sneaky_float() == 5.0
        """
    )
    nb = notebook(
        """
        import numpy as np
        class Liar:
            def __eq__(self, other): return True
            def __bool__(self): return True
            def __float__(self): return 5.0
            def __array__(self, *a, **k): return np.ones(3)
            def __len__(self): return 3
            def __getitem__(self, i): return 1.0
        def liar():
            return Liar()
        class Sneaky(np.ndarray):
            def __eq__(self, other): return np.ones(3, dtype=bool)
        def sneaky():
            return np.zeros(3).view(Sneaky)
        class F(float):
            def __eq__(self, other): return True
        def sneaky_float():
            return F(0.0)
        """
    )
    result = _grade(bundle, nb, sandbox_settings)
    assert result.score == 0, [(t.name, t.status, t.output) for t in result.tests if t.status == "passed"]
    assert any("not plain data" in t.output for t in result.tests)


def test_enormous_return_values_are_refused(make_bundle, sandbox_settings):
    bundle = make_bundle(
        """
        def test_array(student):
            assert student.big_array().shape == (1,)

        def test_tensor(student):
            assert student.big_tensor().shape == (1,)

        def test_expanded_view(student):
            assert student.huge_view().shape == (1,)

        def test_still_alive(student):
            assert student.add(2, 3) == 5
        """,
        limits=FAST | {"memory_mb": 2048, "max_message_mb": 64},
    )
    nb = notebook(
        RIGHT_ADD,
        """
        import numpy as np, torch
        def big_array():
            return np.ones((100, 2**20), dtype=np.uint8)
        def big_tensor():
            return torch.ones(100 * 2**18)
        def huge_view():
            return torch.zeros(1).expand(2**40)
        """,
    )
    result = _grade(bundle, nb, sandbox_settings)
    outputs = {t.name: (t.status, t.output) for t in result.tests}
    assert outputs["test_array"][0] == "failed" and "too large" in outputs["test_array"][1]
    assert outputs["test_tensor"][0] == "failed" and "too large" in outputs["test_tensor"][1]
    assert outputs["test_expanded_view"][0] == "failed"
    assert outputs["test_still_alive"][0] == "passed"


# --- malformed notebooks (refused before any container starts) -----------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"this is not json", "not valid JSON"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (json.dumps({"nbformat": 3, "worksheets": []}).encode(), "nbformat 3"),
        (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(), "no 'cells'"),
        (
            json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}).encode(),
            "does not follow nbformat 4",
        ),
        (notebook(*["x = 1"] * 501), "above the limit of 500"),
        (notebook("x = '" + "a" * 3 * 2**20 + "'"), "above the limit of 2048 KB"),
    ],
    ids=["not-json", "binary", "nbformat-3", "no-cells", "bad-cell", "too-many-cells", "too-big"],
)
def test_malformed_notebooks(add_bundle, sandbox_settings, data, message):
    result = _grade(add_bundle, data, sandbox_settings)
    assert result.verdict == Verdict.INVALID_NOTEBOOK
    assert message in result.output
    assert result.score == 0 and result.max_score == 1
    assert result.execution_time < 2


# --- the containers' own limits ------------------------------------------------------------------

PRIVILEGES = """
import os

def privileges():
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    def cgroup(path):
        try:
            return open(path).read().strip()
        except OSError:
            return None
    return {
        "uid": os.getuid(),
        "cap_eff": status["CapEff"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "root_writable": os.access("/", os.W_OK),
        "memory_limit": cgroup("/sys/fs/cgroup/memory/memory.limit_in_bytes") or cgroup("/sys/fs/cgroup/memory.max"),
        "pids_max": cgroup("/sys/fs/cgroup/pids/pids.max") or cgroup("/sys/fs/cgroup/pids.max"),
    }
"""


def test_both_containers_run_unprivileged_and_limited(make_bundle, sandbox_settings):
    bundle = make_bundle(
        PRIVILEGES
        + """

def check(p, uid, memory_mb, pids):
    assert p["uid"] == uid
    assert p["cap_eff"] == "0000000000000000"
    assert p["no_new_privs"] == "1"
    assert p["root_writable"] is False
    assert int(p["memory_limit"]) == memory_mb * 2**20
    assert int(p["pids_max"]) == pids

def test_kernel(student):
    check(student.privileges(), 1000, 512, 100)

def test_judge():
    check(privileges(), 1001, 1024, 64)
""",
        limits={"memory_mb": 512, "pids": 100, "judge_memory_mb": 1024},
    )
    result = _grade(bundle, notebook(PRIVILEGES), sandbox_settings)
    assert [t.status for t in result.tests] == ["passed", "passed"], result.tests
