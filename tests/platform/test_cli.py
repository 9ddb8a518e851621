"""The `course` command line against a live server (real HTTP), and a real worker for `submit`."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from course.cli import main
from course.progress.models import ActivityDay
from tests.support import EXERCISES

SOLUTION = EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb"


@pytest.fixture
def logged_in(live_server, curriculum, learner, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CREDENTIALS", str(tmp_path / "credentials.json"))
    monkeypatch.setenv("COURSE_PASSWORD", "pw")
    # An old credentials file that others could read: logging in again must close it.
    (tmp_path / "credentials.json").write_text("{}")
    os.chmod(tmp_path / "credentials.json", 0o644)
    assert main(["login", "--url", live_server.url, "--username", "alice"]) == 0
    assert "logged in" in capsys.readouterr().out
    assert oct((tmp_path / "credentials.json").stat().st_mode & 0o777) == "0o600"
    return tmp_path


@pytest.mark.django_db(transaction=True)
def test_login_modules_fetch_test_watch(logged_in, capsys):
    assert main(["modules", "--exercises"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "available" in out and "normalize-rows" in out

    assert main(["fetch", "normalize-rows", "--dir", str(logged_in)]) == 0
    folder = logged_in / "normalize-rows"
    assert (folder / "check.py").is_file() and (folder / "normalize-rows.ipynb").is_file()
    capsys.readouterr()

    assert main(["test", str(folder / "normalize-rows.ipynb")]) == 1  # the template fails the visible test
    shutil.copy(SOLUTION, folder / "mine.ipynb")
    assert main(["test", str(folder / "mine.ipynb")]) == 0

    notebook = folder / "mine.ipynb"
    stamp = notebook.stat().st_mtime

    import threading

    timer = threading.Timer(0.2, lambda: os.utime(notebook, (stamp + 5, stamp + 5)))
    timer.start()
    assert main(["watch", "normalize-rows", str(notebook), "--interval", "0.1", "--max-heartbeats", "1"]) == 0
    assert "sent 1 heartbeat" in capsys.readouterr().out
    assert ActivityDay.objects.filter(exercise__slug="normalize-rows", heartbeats=1).exists()


@pytest.mark.django_db(transaction=True)
def test_errors_are_plain_messages(live_server, curriculum, learner, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CREDENTIALS", str(tmp_path / "none.json"))
    assert main(["modules"]) == 2
    assert "not logged in" in capsys.readouterr().err
    monkeypatch.setenv("COURSE_PASSWORD", "wrong")
    assert main(["login", "--url", live_server.url, "--username", "alice"]) == 2
    assert "wrong username or password" in capsys.readouterr().err
    assert main(["login", "--url", "http://127.0.0.1:9", "--username", "alice"]) == 2
    assert "cannot reach" in capsys.readouterr().err


@pytest.mark.docker
@pytest.mark.django_db(transaction=True)
def test_submit_waits_and_prints_the_results(logged_in, worker, capsys, tmp_path):
    wrong = json.loads(SOLUTION.read_text())
    for cell in wrong["cells"]:
        cell["source"] = "".join(cell["source"]).replace("keepdims=True", "keepdims=False")
    wrong["cells"].append(
        {
            "cell_type": "code",
            "id": "extra",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
            "source": "normalize_rows(np.ones((2, 3)))",
        }
    )
    (tmp_path / "wrong.ipynb").write_text(json.dumps(wrong))
    assert main(["submit", "normalize-rows", str(tmp_path / "wrong.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "-> graded" in out and "FAILED" in out
    # The failing cell, with the traceback through the learner's own function.
    assert "cell 4: error ValueError" in out and "Cell 2, line 5, in normalize_rows" in out
    assert main(["submit", "normalize-rows", str(SOLUTION)]) == 0
    out = capsys.readouterr().out
    assert "score 8/8" in out and "PASS" in out
    assert main(["status"]) == 0
    listing = capsys.readouterr().out
    assert listing.count("normalize-rows") == 2 and "graded" in listing
