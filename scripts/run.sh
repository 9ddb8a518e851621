#!/usr/bin/env bash
# Runs the platform on this machine: installs what is missing, migrates and loads the curriculum,
# creates the demo cohort, starts web (gunicorn), a worker and beat, grades the reference and
# template notebooks of every shipped exercise through the real API, queue and sandbox, prints
# the results, and keeps the site at http://127.0.0.1:8000 until Ctrl-C. A demo grading that is
# late or wrong (a busy machine) is reported with the command that grades it again; it never stops
# the site.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
source "$(dirname "${BASH_SOURCE[0]}")/platform.sh"

PORT="${PORT:-8000}"
mkdir -p var/log
manage() { .venv/bin/python manage.py "$@"; }
say "preparing the database (${DATABASE_URL:-SQLite at var/db.sqlite3})"
manage migrate --no-input -v0
manage collectstatic --no-input -v0
manage load_curriculum
manage seed_demo

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "error: port $PORT is in use; stop what runs there or set PORT" >&2
  exit 1
fi
pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; }
# Ctrl-C (or a TERM) ends the script, and every way out of it stops what it started; dockerd and
# redis-server run in sessions of their own (bootstrap.sh, platform.sh) and keep running.
trap stop EXIT
trap 'exit 130' INT TERM
say "starting web, worker and beat (logs in var/log/)"
.venv/bin/gunicorn course.config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 \
  --access-logfile var/log/web-access.log >var/log/web.log 2>&1 &
pids+=($!)
# -l info: the worker's " ready." line, which the wait below looks for, is an info line.
.venv/bin/celery -A course.config.celery:app worker -Q cpu,gpu --prefetch-multiplier 1 \
  -n "worker@%h" -l info >var/log/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A course.config.celery:app beat -s var/celerybeat-schedule >var/log/beat.log 2>&1 &
pids+=($!)
# Generous waits (a busy machine starts slowly); past them the demo says so and goes on.
for _ in $(seq 240); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
# The worker registers its environments (base, mi) before it is ready; exercises of an
# environment no worker has registered are refused.
for _ in $(seq 600); do
  grep -q " ready\." var/log/worker.log 2>/dev/null && break
  sleep 0.5
done
grep -q " ready\." var/log/worker.log 2>/dev/null ||
  echo "warning: the worker is not ready after 5 minutes (see var/log/worker.log); the demo grades anyway" >&2

say "the site runs at http://127.0.0.1:$PORT; grading the shipped exercises through the API"
# The demo's outcome is reported, never fatal: its summary names what was late or wrong and the
# command that grades it again.
if ! manage submit_shipped --url "http://127.0.0.1:$PORT"; then
  echo "warning: the demo gradings were not all as expected (listed above); the site keeps running" >&2
fi

echo
say "the site runs at http://127.0.0.1:$PORT (API docs at /api/docs/, admin at /admin/); Ctrl-C stops it"
wait "${pids[@]}"
