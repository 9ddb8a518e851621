"""The shell scripts' effects on this machine that a person relies on (scripts/bootstrap.sh)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _pids_of(command: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == command:
                pids.append(int(entry.name))
        except OSError:  # ended meanwhile
            continue
    return pids


def test_dockerd_is_out_of_reach_of_the_terminals_ctrl_c():
    """Ctrl-C on scripts/run.sh or test.sh signals their terminal's foreground process group (and a
    closed terminal its session): a dockerd that bootstrap.sh started must be in neither.

    Run by scripts/test.sh on a machine without a running engine, this test's process is in the
    session that started dockerd a moment before; elsewhere (an engine started by the system) it
    holds all the same.
    """
    pids = _pids_of("dockerd")
    if not pids:
        pytest.skip("no dockerd on this machine (a remote Docker engine)")
    for pid in pids:
        assert os.getsid(pid) != os.getsid(0), f"dockerd ({pid}) is in this terminal's session"
        assert os.getpgid(pid) != os.getpgid(0), f"dockerd ({pid}) is in this process group"
