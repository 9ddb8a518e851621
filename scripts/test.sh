#!/usr/bin/env bash
# The whole test suite, against a real Docker engine and the real sandbox image.
#   scripts/test.sh [pytest arguments]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
echo "==> running the tests"
exec .venv/bin/python -m pytest "$@"
