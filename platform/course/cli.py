"""``course``: the learner's command line (login, modules, fetch, test, submit, status, watch).

A client of the REST API using only the standard library, so it needs nothing from Django.
Credentials are kept in ``~/.config/course/credentials.json`` (mode 600), or in the file named by
``COURSE_CREDENTIALS``.
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"


class CliError(Exception):
    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        # The HTTP status the site answered with; None when there was no answer (or no request).
        self.status = status


def _credentials_path() -> Path:
    return Path(os.environ.get("COURSE_CREDENTIALS", Path.home() / ".config" / "course" / "credentials.json"))


class Api:
    def __init__(self, url: str, token: str | None = None) -> None:
        self.url, self.token = url.rstrip("/"), token

    @classmethod
    def from_saved(cls) -> Api:
        path = _credentials_path()
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            raise CliError("not logged in: run `course login` first") from None
        return cls(saved["url"], saved["token"])

    def request(self, method: str, path: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except ValueError:
                detail = ""
            if exc.code == 401:
                raise CliError("the server does not accept your login: run `course login` again", status=401) from None
            raise CliError(f"{detail or exc.reason} (HTTP {exc.code})", status=exc.code) from None
        except urllib.error.URLError as exc:
            raise CliError(f"cannot reach {self.url}: {exc.reason}") from None

    def json(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        body = json.dumps(payload).encode() if payload is not None else None
        raw = self.request(method, path, body=body, content_type="application/json" if body else None)
        return json.loads(raw) if raw else None

    def upload(self, path: str, field: str, filename: str, data: bytes) -> Any:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return json.loads(
            self.request("POST", path, body=body, content_type=f"multipart/form-data; boundary={boundary}")
        )

    def wait(self, submission_id: int, timeout: float, on_stage: Any = None, poll_s: float = 0.5) -> dict[str, Any]:
        """Poll a submission until it is graded or failed, or ``timeout`` passes; returns its last state.

        ``on_stage`` is told each stage seen: queued, running, judging, graded or error.
        """
        deadline, stage = time.monotonic() + timeout, None
        while True:
            submission = self.json("GET", f"/api/v1/submissions/{submission_id}")
            now = submission.get("stage", submission["status"])
            if now != stage:
                stage = now
                if on_stage:
                    on_stage(stage)
            if submission["status"] in ("graded", "error") or time.monotonic() > deadline:
                return submission
            time.sleep(poll_s)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h"


def cmd_login(args: argparse.Namespace) -> None:
    username = args.username or input("username: ")
    password = os.environ.get("COURSE_PASSWORD") or getpass.getpass("password: ")
    token = Api(args.url).json("POST", "/api/v1/auth/token", {"username": username, "password": password})["token"]
    path = _credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode only applies to a new file: an old one may be world-readable
    with os.fdopen(fd, "w") as f:
        json.dump({"url": args.url.rstrip("/"), "token": token, "username": username}, f)
    print(f"logged in to {args.url} as {username}")


def cmd_modules(args: argparse.Namespace) -> None:
    modules = Api.from_saved().json("GET", "/api/v1/modules")
    print(f"{'module':22} {'state':12} {'score':>11} {'time':>8} {'estimate':>9}")
    for m in modules:
        score = f"{m['score']:g}/{m['max_score']:g}"
        print(f"{m['slug']:22} {m['state']:12} {score:>11} {_hours(m['time_s']):>8} {m['estimated_hours']:>7g} h")
        if m.get("unlock"):
            print(f"    locked: {m['unlock']}")
        if args.exercises:
            for e in m["exercises"]:
                mark = "  (checkpoint)" if e.get("checkpoint") else ""
                print(f"    {e['slug']:30} {e['state']:12} {e['best_score']:g}/{e['max_score']:g}{mark}")


def cmd_fetch(args: argparse.Namespace) -> None:
    data = Api.from_saved().request("GET", f"/api/v1/exercises/{args.exercise}/starter")
    dest = Path(args.dir)
    with zipfile.ZipFile(io.BytesIO(data)) as pack:
        for member in pack.infolist():
            target = (dest / member.filename).resolve()
            if not target.is_relative_to(dest.resolve()):
                raise CliError(f"refusing to write outside {dest}: {member.filename}")
        pack.extractall(dest)
    folder = dest / args.exercise
    print(f"fetched {args.exercise} into {folder}: open {args.exercise}.ipynb, then `course test` there")


def cmd_test(args: argparse.Namespace) -> int:
    notebook = Path(args.notebook).resolve()
    folder = Path(args.dir).resolve() if args.dir else notebook.parent
    if not (folder / "check.py").is_file():
        raise CliError(f"no check.py in {folder}: `course fetch <exercise>` first, or pass --dir")
    return subprocess.call([sys.executable, str(folder / "check.py"), str(notebook)], cwd=folder)


def _print_result(submission: dict[str, Any]) -> None:
    result = submission.get("result") or {}
    print(
        f"\n{submission['exercise']}: {submission['status']} ({submission.get('verdict') or '-'}), "
        f"score {submission['score'] or 0:g}/{submission['max_score']:g}"
    )
    if result.get("output"):
        print(result["output"])
    for test in result.get("tests", []):
        mark = "PASS" if test["status"] == "passed" else test["status"].upper()
        print(f"  {mark:7} {test['name']:45} {test['score']:g}/{test['max_score']:g}")
        if test["status"] != "passed" and test.get("output"):
            print("          " + test["output"].strip()[:1500].replace("\n", "\n          "))
    for cell in result.get("cells", []):
        if cell["status"] not in ("ok", "not_run"):
            print(f"  cell {cell['index']}: {cell['status']} {cell.get('ename', '')}: {cell.get('evalue', '')}")
            if cell.get("traceback"):
                print("    " + cell["traceback"].replace("\n", "\n    "))
    changes = result.get("notebook_changes") or []
    if changes:
        print("We adjusted your notebook before running it:")
        for change in changes:
            print(f"  - {change}")


def cmd_submit(args: argparse.Namespace) -> int:
    api = Api.from_saved()
    data = Path(args.notebook).read_bytes()
    created = api.upload(f"/api/v1/exercises/{args.exercise}/submissions", "notebook", Path(args.notebook).name, data)
    print(f"submitted #{created['id']}", end="", flush=True)
    submission = api.wait(created["id"], args.timeout, lambda stage: print(f" -> {stage}", end="", flush=True))
    if submission["status"] not in ("graded", "error"):
        print(
            f"\nstill {submission['status']} after {args.timeout:.0f} s; check later with "
            f"`course status {created['id']}`"
        )
        return 1
    print()
    _print_result(submission)
    return 0 if submission["score"] == submission["max_score"] else 1


def cmd_status(args: argparse.Namespace) -> None:
    api = Api.from_saved()
    if args.submission:
        _print_result(api.json("GET", f"/api/v1/submissions/{args.submission}"))
        return
    rows = api.json("GET", "/api/v1/submissions")
    print(f"{'id':>6} {'exercise':32} {'status':8} {'score':>9}  queued")
    for s in rows[:20]:
        score = f"{s['score'] or 0:g}/{s['max_score']:g}"
        print(f"{s['id']:>6} {s['exercise']:32} {s.get('stage', s['status']):8} {score:>9}  {s['queued_at'][:19]}")


def cmd_watch(args: argparse.Namespace) -> None:
    """Send a heartbeat whenever the notebook changed since the last one (at most every interval)."""
    api, path = Api.from_saved(), Path(args.notebook)
    last_mtime, sent = path.stat().st_mtime, 0
    print(f"watching {path} for {args.exercise}: time is recorded while you edit (Ctrl-C stops)")
    try:
        while args.max_heartbeats is None or sent < args.max_heartbeats:
            time.sleep(args.interval)
            mtime = path.stat().st_mtime
            if mtime != last_mtime:
                last_mtime = mtime
                api.json("POST", "/api/v1/activity", {"exercise": args.exercise, "source": "cli"})
                sent += 1
    except KeyboardInterrupt:
        pass
    print(f"sent {sent} heartbeat(s)")


def cmd_hint(args: argparse.Namespace) -> None:
    """Print the hints revealed so far; with --next, reveal one more first."""
    api = Api.from_saved()
    path = f"/api/v1/exercises/{args.exercise}"
    help_ = api.json("POST", f"{path}/hints") if args.next else api.json("GET", f"{path}/help")
    for number, hint in enumerate(help_["hints"], start=1):
        print(f"--- hint {number} of {help_['hints_total']} ---\n{hint.strip()}\n")
    left = help_["hints_total"] - len(help_["hints"])
    print(f"{left} more hint(s): course hint {args.exercise} --next" if left else "no more hints")


def cmd_solution(args: argparse.Namespace) -> None:
    """Reveal the solution (recorded) if the cohort's rule allows it now, and print it."""
    help_ = Api.from_saved().json("POST", f"/api/v1/exercises/{args.exercise}/solution")
    print(help_["solution"].strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course", description="Work through the course from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("login", help="get an API token")
    p.add_argument("--url", default=os.environ.get("COURSE_URL", DEFAULT_URL))
    p.add_argument("--username")
    p.set_defaults(func=cmd_login)
    p = sub.add_parser("modules", help="the curriculum with your state, score and time")
    p.add_argument("--exercises", action="store_true", help="list each module's exercises too")
    p.set_defaults(func=cmd_modules)
    p = sub.add_parser("fetch", help="download an exercise's starter pack")
    p.add_argument("exercise")
    p.add_argument("--dir", default=".")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("test", help="run the visible tests on your machine")
    p.add_argument("notebook")
    p.add_argument("--dir", help="the fetched exercise folder (default: the notebook's)")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("submit", help="submit a notebook and wait for its results")
    p.add_argument("exercise")
    p.add_argument("notebook")
    p.add_argument("--timeout", type=float, default=600)
    p.set_defaults(func=cmd_submit)
    p = sub.add_parser("status", help="your recent submissions, or one in detail")
    p.add_argument("submission", nargs="?", type=int)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("watch", help="record time on an exercise while you edit its notebook")
    p.add_argument("exercise")
    p.add_argument("notebook")
    p.add_argument("--interval", type=float, default=60.0, help="seconds between checks")
    p.add_argument("--max-heartbeats", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_watch)
    p = sub.add_parser("hint", help="the hints you revealed for an exercise (--next reveals one more)")
    p.add_argument("exercise")
    p.add_argument("--next", action="store_true", help="reveal the next hint (recorded)")
    p.set_defaults(func=cmd_hint)
    p = sub.add_parser("solution", help="reveal and print an exercise's solution, when your cohort allows it")
    p.add_argument("exercise")
    p.set_defaults(func=cmd_solution)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"course: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
