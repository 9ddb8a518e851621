#!/usr/bin/env bash
# The whole test suite against real services: Docker and the sandbox image, Redis, and the
# database in DATABASE_URL (SQLite by default; CI also runs the platform tests on PostgreSQL).
#   scripts/test.sh [pytest arguments]
set -euo pipefail
# The suite validates every shipped bundle in its environment, which is what a drift check does.
export SANDBOX_DRIFT_CHECK=0
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/platform.sh"
say "running the tests (${DATABASE_URL:-SQLite})"
exec .venv/bin/python -m pytest "$@"
