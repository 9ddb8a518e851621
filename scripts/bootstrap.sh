#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine with Python 3.11, and nothing twice:
# the virtualenv and packages, the Docker engine (when missing and running as root), debootstrap,
# and the sandbox image (rebuilt only when its inputs change). Sourced by run.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "error: $1 is missing and installing it needs root; install it and run again" >&2
    exit 1
  fi
}

apt_install() {
  need_root "$*"
  say "installing $* from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Python ------------------------------------------------------------------------------------
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "error: Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating the virtualenv in .venv"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 \
    | grep -v "is ignored: it is neither a file nor a directory" || true
  .venv/bin/python -c 'import grader, sandbox, docker, nbclient, torch' # fail here if the install did
  rm -f .venv/.installed-* && touch "$stamp"
fi

# --- Docker engine -----------------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io
  need_root "a running Docker engine"
  say "starting dockerd"
  mkdir -p /var/log
  # In a session of its own, and no child of this script (-f forks): Ctrl-C (or a closed
  # terminal) on the script that started it reaches the terminal's process group and session, and
  # must stop that script, never the engine; and the script's `wait` must not wait for it.
  setsid -f dockerd </dev/null >/var/log/dockerd.log 2>&1
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "error: dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

# docker-compose validates docker-compose.yml in the tests (`docker-compose config`); the page
# tests drive Debian's Chromium through Playwright.
command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
command -v chromium >/dev/null 2>&1 || apt_install chromium

# --- The sandbox images ------------------------------------------------------------------------
# One per environment the shipped exercises use (base, mi), each tagged by the hash of its inputs:
# only a changed input rebuilds, and packages layers are shared. A rebuild grades the reference of
# every exercise of that environment before the new image is tagged for use (drift), unless
# SANDBOX_DRIFT_CHECK=0 (the test command: its suite validates every bundle in its environment).
missing=0
for env in $(.venv/bin/python -c 'from grader.drift import environments_in_use; from pathlib import Path; print(" ".join(environments_in_use(Path("exercises"))))'); do
  docker image inspect "$(.venv/bin/python -m sandbox tag "$env")" >/dev/null 2>&1 || missing=1
done
if [ "$missing" = 1 ]; then
  if ! docker image ls --format '{{.Repository}}' | grep -qx coursegrade-base; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  fi
  say "building the sandbox images (a first build takes several minutes)"
  drift=()
  [ "${SANDBOX_DRIFT_CHECK:-1}" = 0 ] && drift=(--no-drift-check)
  .venv/bin/python -m sandbox build --used "${drift[@]}"
fi
export SANDBOX_IMAGE="$(.venv/bin/python -m sandbox tag base)"
