"""The notebook client (client/coursegrade): served as a wheel, installed with pip, used from IPython.

The end-to-end test installs the wheel from a live server with pip, then drives a real IPython
``InteractiveShell`` in a subprocess (the learner's kernel) against that server: login, check,
heartbeats and submit, over real HTTP and the real database. There is no grading worker: the
submission stays queued.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import urllib.request
import zipfile
from collections.abc import Iterator

import pytest
from rest_framework.authtoken.models import Token

from course.curriculum.models import Exercise
from course.notebook_client import build_wheel, client_dir, client_wheel
from course.progress.models import ActivityDay, LearnerClock
from course.submissions.models import Submission
from tests.platform.support import client_for
from tests.support import EXERCISES, ROOT

SOLUTION = EXERCISES / "numpy" / "normalize-rows" / "solution.ipynb"


def _env() -> dict[str, str]:
    """The learner's kernel: no notebook front end says anything, and nothing goes through a proxy."""
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME", "COLAB_RELEASE_TAG", "PYTHONPATH")}
    env.pop("COURSEGRADE_TOKEN", None)
    return env | {"NO_PROXY": "*", "no_proxy": "*"}


def _code_cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}


def test_the_wheel_is_a_valid_deterministic_wheel(client):
    wheel = client_wheel()
    assert wheel is not None and wheel.filename == f"coursegrade_client-{wheel.version}-py3-none-any.whl"
    response = client.get(f"/client/{wheel.filename}")  # anonymous: it holds no secret
    assert response.status_code == 200 and response["ETag"] == f'"{wheel.sha256}"'
    data = response.content
    assert data == build_wheel(client_dir()).data  # the same bytes when built again

    archive = zipfile.ZipFile(io.BytesIO(data))
    dist_info = f"coursegrade_client-{wheel.version}.dist-info"
    record = archive.read(f"{dist_info}/RECORD").decode().splitlines()
    listed = {}
    for line in record:
        name, digest, size = line.rsplit(",", 2)
        listed[name] = (digest, size)
    assert set(listed) == set(archive.namelist())
    for name, (digest, size) in listed.items():
        if name == f"{dist_info}/RECORD":
            assert (digest, size) == ("", "")
            continue
        content = archive.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        assert (digest, size) == (f"sha256={expected}", str(len(content))), name
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert "Name: coursegrade-client\n" in metadata and f"Version: {wheel.version}\n" in metadata
    assert "Requires-Dist" not in metadata  # the standard library only (pytest is imported by check())
    assert "Root-Is-Purelib: true" in archive.read(f"{dist_info}/WHEEL").decode()
    modules = [n for n in archive.namelist() if n.startswith("coursegrade/")]
    assert "coursegrade/__init__.py" in modules
    for name in modules:  # as old a Python as Requires-Python says (Colab and laptops lag behind)
        ast.parse(archive.read(name), name, feature_version=(3, 9))

    assert client.get(f"/client/{wheel.filename}", HTTP_IF_NONE_MATCH=f'"{wheel.sha256}"').status_code == 304
    missing = client.get("/client/coursegrade_client-0.0.1-py3-none-any.whl")
    assert missing.status_code == 404


def test_served_templates_tell_the_client_their_exercise_and_site(curriculum, learner):
    client = client_for(learner)
    template = json.loads(client.get("/api/v1/exercises/normalize-rows/notebook").content)
    expected = {"exercise": "normalize-rows", "site": "http://testserver"}
    assert template["metadata"]["coursegrade"] == expected
    assert template["metadata"]["kernelspec"]["name"] == "python3"  # the rest of the metadata is kept

    pack = zipfile.ZipFile(io.BytesIO(client.get("/api/v1/exercises/normalize-rows/starter").content))
    assert json.loads(pack.read("normalize-rows/normalize-rows.ipynb"))["metadata"]["coursegrade"] == expected
    stored = Exercise.objects.get(slug="normalize-rows").current_version.template
    assert "coursegrade" not in stored["metadata"]  # added when served, never stored


def test_behind_a_tls_proxy_the_site_handed_out_is_https(curriculum, learner, settings):
    probe = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, s.SESSION_COOKIE_SECURE)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "course.config.settings", "BEHIND_TLS_PROXY": "1"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') True", out.stderr
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = client_for(learner)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "course.example.org"]
    proxied = client.get(
        "/api/v1/exercises/normalize-rows/notebook", HTTP_HOST="course.example.org", HTTP_X_FORWARDED_PROTO="https"
    )
    assert json.loads(proxied.content)["metadata"]["coursegrade"]["site"] == "https://course.example.org"


def test_the_exercise_page_shows_the_install_and_login_lines(curriculum, learner, client):
    client.force_login(learner)
    page = client.get("/exercises/normalize-rows/").content.decode()
    token = Token.objects.get(user=learner).key
    assert f"%pip install http://testserver/client/{client_wheel().filename}" in page
    login = page[page.index('<details id="client-login">') :]
    assert f"import coursegrade; coursegrade.login(&quot;{token}&quot;)" in login[: login.index("</details>")]
    client.get("/exercises/normalize-rows/")
    assert Token.objects.filter(user=learner).count() == 1


def test_the_uploaded_copy_keeps_every_cell_and_leaves_out_the_token(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "client"))
    from coursegrade.notebook import for_grading

    login = ["%pip install http://x/c.whl\n", "import coursegrade\n", 'coursegrade.login("s3cret")']
    notebook = {"metadata": {"note": "s3cret"}, "cells": [{"cell_type": "code", "metadata": {}, "source": login}]}
    graded = for_grading(notebook, "s3cret")
    # Not tagged: the grader skips the install line, and `coursegrade` there is a stand-in that does nothing.
    assert graded["cells"] == [
        {
            "cell_type": "code",
            "metadata": {},
            "source": ["%pip install http://x/c.whl\n", "import coursegrade\n", 'coursegrade.login("<your token>")'],
        }
    ]
    assert graded["metadata"] == {"note": "<your token>"}
    assert notebook["cells"][0]["source"] == login  # the learner's own notebook is not changed


class _Site(http.server.BaseHTTPRequestHandler):
    """A site that redirects: ``/away`` to another port, ``/moved`` and every POST to its own ``/modules``."""

    seen: list[tuple[str, str | None]]
    other = ""

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/away":
            self._answer(302, location=f"{self.other}/modules")
        elif self.path == "/moved":
            self._answer(301, location="/modules")
        else:
            self._answer(200, b"[]", "application/json")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/page":  # a login page, say, where the site was expected
            self._answer(200, b"<html>sign in</html>", "text/html")
        else:
            self._answer(303, location="/modules")

    def _answer(self, code: int, body: bytes = b"", kind: str = "text/plain", location: str = "") -> None:
        self.send_response(code)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def _serving(seen: list, other: str = "") -> Iterator[str]:
    handler = type("Handler", (_Site,), {"seen": seen, "other": other})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_token_goes_to_the_site_only(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "client"))
    monkeypatch.setenv("NO_PROXY", "*")
    from coursegrade import login, show
    from coursegrade.api import Api, CourseError

    with pytest.raises(CourseError, match="plain http, which would send your token unencrypted"):
        login("s3cret", site="http://course.example.org", exercise="normalize-rows")
    # Plain http to this computer is allowed (a site run locally): the login gets as far as connecting.
    with pytest.raises(CourseError, match=r"cannot reach http://\[::1\]:9"):
        login("s3cret", site="http://[::1]:9", exercise="normalize-rows")

    elsewhere: list = []
    site_seen: list = []
    with _serving(elsewhere) as other, _serving(site_seen, other) as site:
        api = Api(site, "s3cret")
        assert api.json("GET", "/moved") == []  # within the site: followed, token and all
        with pytest.raises(CourseError, match="not the same site") as refused:
            api.json("GET", "/away")
        assert f"redirected to {other}/modules" in str(refused.value)
        assert elsewhere == []  # never asked, so it never saw the token
        # urllib would repeat a redirected POST as a GET without the notebook.
        with pytest.raises(CourseError, match="redirected a POST"):
            api.upload("/submit", "notebook", "n.ipynb", b"{}")
        with pytest.raises(CourseError, match="did not answer /page as a coursegrade site does"):
            api.upload("/page", "notebook", "n.ipynb", b"{}")
    assert site_seen == [
        ("/moved", "Token s3cret"),
        ("/modules", "Token s3cret"),
        ("/away", "Token s3cret"),
        ("/submit", "Token s3cret"),
        ("/page", "Token s3cret"),
    ]

    table = show.text_table(["test", "points"], [["test_a", "1/1"]], caption="visible tests")
    assert table == "visible tests\ntest  points\ntest_a  1/1"


# The learner's kernel. Steps write what they saw into `out`, printed as JSON on the last line.
KERNEL = textwrap.dedent(
    r"""
    import contextlib, io, json, os, sys, time, types

    cfg = json.loads(sys.argv[1])
    sys.path.insert(0, cfg["target"])
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.lib.pretty import pretty

    shell = InteractiveShell.instance()
    shell.display_pub = CapturingDisplayPublisher()
    ns = shell.user_ns
    out = {}


    def run(code, may_fail=False):
        result = shell.run_cell(code)
        if result.error_in_exec is not None and not may_fail:
            out.setdefault("cell_errors", []).append(f"{code[:60]!r}: {result.error_in_exec!r}")
        return result


    def shown():
        html = "\n".join(o["data"].get("text/html", "") for o in shell.display_pub.outputs)
        shell.display_pub.outputs.clear()
        return html


    def code_of(path):
        cells = json.load(open(path))["cells"]
        return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


    def error_of(fn, *args, **kwargs):
        try:
            fn(*args, **kwargs)
        except coursegrade.CourseError as exc:
            return str(exc)
        return None


    def our_hooks():
        return sum(bool(getattr(cb, "_coursegrade_heartbeat", False)) for cb in shell.events.callbacks["post_run_cell"])


    def checked():
        run("summary = coursegrade.check()")
        s = ns["summary"]
        tests = {t.name: [t.status, t.message] for t in s.tests}
        return {"passed": s.passed, "score": [s.score, s.max_score], "tests": tests, "repr": pretty(s), "html": shown()}


    import coursegrade
    from coursegrade import heartbeat, notebook

    out["module_file"] = coursegrade.__file__
    out["pytest_on_import"] = "pytest" in sys.modules
    token, site = cfg["token"], cfg["site"]

    # Mistakes a learner makes, each with a message that says what to do.
    out["not_logged_in"] = error_of(coursegrade.check)
    out["bad_token"] = error_of(coursegrade.login, "not-a-token", site=site, exercise="normalize-rows")
    out["unreachable"] = error_of(coursegrade.login, token, site="http://127.0.0.1:9", exercise="normalize-rows")
    out["no_token"] = error_of(coursegrade.login, site=site, exercise="normalize-rows")
    out["unknown_notebook"] = error_of(coursegrade.login, token)
    out["unknown_exercise"] = error_of(coursegrade.login, token, site=site, exercise="no-such-exercise")
    out["hooks_after_failures"] = our_hooks()

    # Jupyter names the notebook's file: login reads the site and the exercise from its metadata.
    ns["__session__"] = cfg["template"]
    run(f"import coursegrade\ncoursegrade.login({token!r})")
    logged_in_at = time.monotonic()
    os.environ["COURSEGRADE_TOKEN"] = token
    run("coursegrade.login()")  # a second login: still one hook
    del os.environ["COURSEGRADE_TOKEN"]
    out["hooks"] = our_hooks()
    out["session"] = [coursegrade.api.current().api.site, coursegrade.api.current().exercise]

    # The template's code: the visible test fails with the learner's own error.
    for code in code_of(cfg["template"]):
        run(code, may_fail=True)  # its last cell calls the unfinished function
    shown()
    out["template"] = checked()
    run("def normalize_rows(x):\n    raise ValueError('my rows are wrong')")
    out["own_error"] = checked()
    run("del normalize_rows")
    out["undefined"] = checked()
    for code in code_of(cfg["solution"]):
        run(code)
    out["solution"] = checked()
    out["pytest_after_check"] = "pytest" in sys.modules
    sys.modules["pytest"], saved = None, sys.modules["pytest"]
    out["no_pytest"] = error_of(coursegrade.check)
    sys.modules["pytest"] = saved

    # Heartbeats: one at the first cell after login, then at most one a minute.
    beats = heartbeat.installed(shell)
    beats.flush()
    out["sent_within_a_minute"] = [beats.sent, time.monotonic() - logged_in_at]
    heartbeat.INTERVAL_S = 0
    for i in range(3):
        run(f"x{i} = {i}")
        beats.flush()
    out["sent_after_three_cells"] = beats.sent
    heartbeat.INTERVAL_S = 60.0
    slow = heartbeat.Heartbeats(lambda: time.sleep(2))
    started = time.monotonic()
    slow()
    out["slow_heartbeat_held_cell_s"] = time.monotonic() - started

    # Over the real site: a failure is said once until a heartbeat gets through again; a refused
    # token stops them until the next login.
    from coursegrade.api import Api, Session
    from coursegrade.session import _heartbeat

    logged_in = coursegrade.api.current()
    unreachable = Session(Api("http://127.0.0.1:9", token), logged_in.exercise)
    refused = Session(Api(site, "not-a-token"), logged_in.exercise)
    sent_before, sent, err = beats.sent, [], io.StringIO()
    heartbeat.INTERVAL_S = 0
    with contextlib.redirect_stderr(err):
        for session in (unreachable, unreachable, logged_in, unreachable, refused, logged_in):
            beats.send = lambda session=session: _heartbeat(session)
            run("pass")
            beats.flush()
            sent.append(beats.sent - sent_before)
        os.environ["COURSEGRADE_TOKEN"] = token
        run("coursegrade.login()")
        del os.environ["COURSEGRADE_TOKEN"]
        beats.flush()
        sent.append(beats.sent - sent_before)
    heartbeat.INTERVAL_S = 60.0
    out["heartbeats_sent"] = sent
    out["heartbeat_warnings"] = err.getvalue()

    # Which notebook: path= > VS Code > Jupyter (__session__, then JPY_SESSION_NAME) > Colab.
    out["found_jupyter"] = notebook.find().kind
    ns["__vsc_ipynb_file__"] = cfg["solution"]
    out["found_vscode"] = [notebook.find().kind, notebook.find().where]
    google, colab, message = (types.ModuleType(n) for n in ("google", "google.colab", "google.colab._message"))
    asked = []

    def blocking_request(request, timeout_sec=None):
        asked.append(request)
        return {"ipynb": {"cells": [], "metadata": {"from": "colab"}}} if request == "get_ipynb" else None

    message.blocking_request = blocking_request
    google.colab, colab._message = colab, message
    sys.modules.update({"google": google, "google.colab": colab, "google.colab._message": message})
    # google.colab imported where a file is named (a local kernel with the package): Colab is not asked.
    out["found_over_colab"] = [notebook.find().kind, len(asked)]
    del ns["__vsc_ipynb_file__"]
    out["found_over_colab"].append(notebook.find().kind)
    del ns["__session__"]
    found = notebook.find()
    out["found_colab"] = [found.kind, found.notebook["metadata"], asked]
    out["found_path"] = notebook.find(path=cfg["template"]).kind
    for name in ("google", "google.colab", "google.colab._message"):
        del sys.modules[name]
    os.environ["JPY_SESSION_NAME"] = "some/folder/" + os.path.basename(cfg["template"])
    os.chdir(os.path.dirname(cfg["template"]))  # Jupyter starts the kernel in the notebook's folder
    out["found_env"] = [notebook.find().kind, notebook.find().where]
    del os.environ["JPY_SESSION_NAME"]
    out["found_nothing"] = error_of(notebook.find)

    # Submit a file; no worker grades it here, so it is seen queued until the timeout.
    shown()
    run(f"submission = coursegrade.submit(path={cfg['work']!r}, timeout=1.5)")
    outputs = list(shell.display_pub.outputs)
    out["stage_updates"] = sum(bool(o["update"]) for o in outputs)
    out["submitted"] = [dict(ns["submission"]), pretty(ns["submission"]), shown()]
    beats.flush()
    out["sent_total"] = beats.sent
    print("RESULT:" + json.dumps(out))
    """
)


@pytest.mark.django_db(transaction=True)
def test_install_check_heartbeats_and_submit_from_a_notebook(live_server, curriculum, learner, tmp_path):
    token = Token.objects.create(user=learner).key
    site = live_server.url
    env = _env()

    # The template as the learner downloads it, with what the client needs in its metadata.
    request = urllib.request.Request(
        f"{site}/api/v1/exercises/normalize-rows/notebook", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        template = json.loads(response.read())
    assert template["metadata"]["coursegrade"] == {"exercise": "normalize-rows", "site": site}
    (tmp_path / "work").mkdir()
    template_path = tmp_path / "work" / "normalize-rows.ipynb"
    template_path.write_text(json.dumps(template))

    # What the learner submits: the solution, with the cells that install, log in and submit.
    work = json.loads(SOLUTION.read_text())
    wheel_url = f"{site}/client/{client_wheel().filename}"
    client_cell = f'%pip install {wheel_url}\nimport coursegrade; coursegrade.login("{token}")'
    work["cells"][1:1] = [_code_cell(client_cell)]
    work["cells"].append(_code_cell("coursegrade.submit()"))
    work_path = tmp_path / "work.ipynb"
    work_path.write_text(json.dumps(work))

    # `%pip install <url>`, as on the exercise page, but into a folder of its own and offline.
    target = tmp_path / "site-packages"
    pip = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--no-cache-dir"]
    pip += ["--disable-pip-version-check", "--target", str(target), wheel_url]
    installed = subprocess.run(pip, env=env, capture_output=True, text=True, timeout=180)
    assert installed.returncode == 0, installed.stderr
    assert (target / "coursegrade" / "checks.py").is_file()

    cfg = {
        "target": str(target),
        "site": site,
        "token": token,
        "template": str(template_path),
        "solution": str(SOLUTION),
        "work": str(work_path),
    }
    kernel = subprocess.run(
        [sys.executable, "-c", KERNEL, json.dumps(cfg)], env=env, capture_output=True, text=True, timeout=300
    )
    lines = [line for line in kernel.stdout.splitlines() if line.startswith("RESULT:")]
    assert kernel.returncode == 0 and lines, kernel.stdout[-5000:] + kernel.stderr[-5000:]
    out = json.loads(lines[-1].removeprefix("RESULT:"))
    assert "cell_errors" not in out, out["cell_errors"]

    # Installed from the wheel; importing it needs nothing beyond the standard library.
    assert out["module_file"].startswith(str(target))
    assert out["pytest_on_import"] is False and out["pytest_after_check"] is True

    assert "not logged in" in out["not_logged_in"]
    assert "does not accept this token" in out["bad_token"]
    assert "cannot reach http://127.0.0.1:9" in out["unreachable"]
    assert "no token" in out["no_token"] and "COURSEGRADE_TOKEN" in out["no_token"]
    assert "which site and exercise?" in out["unknown_notebook"] and "pass it" in out["unknown_notebook"]
    assert "no-such-exercise" in out["unknown_exercise"]
    assert out["hooks_after_failures"] == 0 and out["hooks"] == 1
    assert out["session"] == [site, "normalize-rows"]  # from the template's metadata

    assert out["template"]["passed"] is False
    status, message = out["template"]["tests"]["test_example"]
    assert status == "failed" and message.startswith("NotImplementedError")
    assert out["own_error"]["tests"]["test_example"] == ["failed", "ValueError: my rows are wrong"]
    assert "my rows are wrong" in out["own_error"]["html"] and "<table" in out["own_error"]["html"]
    status, message = out["undefined"]["tests"]["test_example"]
    assert status == "failed" and message.startswith("your notebook does not define 'normalize_rows'")
    solution = out["solution"]
    assert solution["passed"] is True and solution["score"] == [1.0, 1.0]
    assert solution["tests"] == {"test_example": ["passed", ""]}
    assert "test_example" in solution["html"] and "1/1" in solution["html"]
    assert solution["repr"] == "<CheckSummary: visible tests of normalize-rows: 1/1 passed, 1/1 points>"
    assert "pip install pytest" in out["no_pytest"]

    sent, elapsed = out["sent_within_a_minute"]
    assert sent == 1 or elapsed >= 60  # every cell so far ran within the minute after login
    assert out["sent_after_three_cells"] == sent + 3
    assert out["slow_heartbeat_held_cell_s"] < 0.5  # sent on a background thread
    # Two blips, each said once; the site refusing the token stops them until the login after it.
    assert out["heartbeats_sent"] == [0, 0, 1, 1, 1, 1, 2]
    warnings = out["heartbeat_warnings"]
    assert warnings.count("could not record time on task") == 2
    assert warnings.count("the site refused the heartbeats") == 1 and "does not accept this token" in warnings
    assert 'Log in again to resume: coursegrade.login("<your token>")' in warnings

    assert out["found_jupyter"] == "jupyter"
    assert out["found_vscode"] == ["vscode", str(SOLUTION)]
    assert out["found_over_colab"] == ["vscode", 0, "jupyter"]
    assert out["found_colab"] == ["colab", {"from": "colab"}, ["get_ipynb"]]
    assert out["found_path"] == "path"
    assert out["found_env"] == ["jupyter", str(template_path)]
    assert "cannot tell which notebook this is" in out["found_nothing"] and "path=" in out["found_nothing"]

    body, short, html = out["submitted"]
    submission = Submission.objects.get(learner=learner)
    assert body["id"] == submission.id and body["status"] == "queued" and submission.status == "queued"
    assert short == f"<submission {submission.id}: queued>"
    assert f"as submission {submission.id}" in html and "Queued" in html and "Still queued" in html
    assert out["stage_updates"] >= 1  # one display, updated in place while polling
    raw = submission.notebook.read().decode()
    assert token not in raw
    # Every cell as the learner wrote it, none tagged: while grading, coursegrade does nothing.
    assert json.loads(raw) == json.loads(json.dumps(work).replace(token, "<your token>"))
    assert json.loads(raw)["cells"][1]["source"].endswith('import coursegrade; coursegrade.login("<your token>")')

    # Heartbeats arrived: the client's, and the submission's own.
    day = ActivityDay.objects.get(learner=learner, exercise__slug="normalize-rows")
    assert day.heartbeats == out["sent_total"] + 1
    assert LearnerClock.objects.get(learner=learner).last_exercise.slug == "normalize-rows"


@pytest.mark.django_db(transaction=True)
def test_a_notebook_in_a_real_jupyter_kernel_installs_checks_and_submits(live_server, curriculum, learner, tmp_path):
    """The learner's notebook as Jupyter runs it (nbclient, ipykernel): pip from the platform's URL,
    login, the reference's cells, check(), more cells, submit(); every cell's output is the kernel's."""
    import nbformat
    from nbclient import NotebookClient

    token, site = Token.objects.create(user=learner).key, live_server.url
    wheel_url = f"{site}/client/{client_wheel().filename}"
    target = tmp_path / "site-packages"
    solution = json.loads(SOLUTION.read_text())
    reference = ["".join(c["source"]) for c in solution["cells"] if c["cell_type"] == "code"]
    cells = [
        # As `%pip install <url>` on the exercise page, into a folder of its own (not this virtualenv).
        f"import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'pip', 'install', '--no-index', '--no-deps',"
        f" '--quiet', '--target', {str(target)!r}, {wheel_url!r}], check=True)\nsys.path.insert(0, {str(target)!r})",
        f"import coursegrade\ncoursegrade.login({token!r}, site={site!r}, exercise='normalize-rows')",
        *reference,
        "summary = coursegrade.check()\nassert summary.passed, summary",
        "rows = normalize_rows(np.eye(3))",  # more work in the notebook: heartbeats
        "import time\ntime.sleep(0.5)  # the heartbeat thread has sent",
        f"submission = coursegrade.submit(path={str(tmp_path / 'work.ipynb')!r}, timeout=1.5)\n"
        "print(submission['status'])",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, tmp_path / "work.ipynb")
    client = NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=_env() | {"PYDEVD_DISABLE_FILE_VALIDATION": "1"})

    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"], outputs
    check_html = "".join(o.get("data", {}).get("text/html", "") for o in nb.cells[-4].outputs)
    assert "test_example" in check_html and "1/1" in check_html, "check() shows its table in the notebook"
    assert nb.cells[-1].outputs[-1]["text"].strip().endswith("queued")
    submission = Submission.objects.get(learner=learner)
    assert submission.exercise.slug == "normalize-rows" and submission.status == "queued"
    # Code runs in the notebook recorded time on the exercise its client names: more than the submission's.
    day = ActivityDay.objects.get(learner=learner, exercise__slug="normalize-rows")
    assert day.heartbeats >= 2
