#!/usr/bin/env bash
# Grades every shipped exercise end to end in the Docker sandbox: its reference notebook (which
# must get full marks) and its unsolved template (which must not), and prints what it got.
#   scripts/run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec .venv/bin/python -m grader.demo
