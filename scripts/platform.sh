#!/usr/bin/env bash
# Sourced after bootstrap.sh: a running Redis, and the database migrated and loaded.
set -euo pipefail

if ! redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server redis-tools
  say "starting redis-server"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 20); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
