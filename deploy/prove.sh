#!/usr/bin/env bash
# The production path, proven on this machine: docker-compose.yml brought up as the README's
# "Production with docker-compose" says, one submission graded through it, then taken down.
#   deploy/prove.sh            (root; about 5-10 minutes, most of it image builds on a first run)
# Steps, each timed: the sandbox image and the debootstrap base (scripts/bootstrap.sh); the wheels
# for the platform image (pip download on the host); local builds of redis:7 and postgres:15
# (deploy/services/, since no registry is reachable); `docker-compose build` and `up -d`; every
# service healthy; the curriculum loaded; a staff user's token; the NumPy reference solution
# submitted to the API and graded; `down -v`; nothing of the project left (containers, volumes,
# networks) and no sandbox container or volume left. Exits non-zero at the first failure, after
# taking the project down.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh

PROJECT=coursegrade-proof
PORT="${PROOF_PORT:-8790}"
WORK=var/proof
mkdir -p "$WORK"
started=$SECONDS
step() { printf '[%4d s] %s\n' $((SECONDS - started)) "$*"; }
compose() { docker-compose -p "$PROJECT" --env-file "$WORK/env" "$@"; }
sandbox_objects() {
  { docker ps -aq --filter label=coursegrade.sandbox; docker volume ls -q --filter label=coursegrade.sandbox; } | wc -l
}
left_of_project() {
  local label="label=com.docker.compose.project=$PROJECT"
  { docker ps -aq --filter "$label"; docker volume ls -q --filter "$label"; docker network ls -q --filter "$label"; } | wc -l
}

base="$(docker images coursegrade-base --format '{{.Repository}}:{{.Tag}}' | head -n 1)"
[ -n "$base" ] || { echo "error: no coursegrade-base image; run .venv/bin/python -m sandbox build" >&2; exit 1; }
sandbox_before="$(sandbox_objects)"

step "wheels for the platform image (pip download on the host, as the README says)"
# (This machine's pip configuration names find-links folders that may not exist: not an error.)
.venv/bin/python -m pip download -q --dest wheels --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_34_x86_64 \
  . pip 'setuptools>=68' wheel 'async-timeout>=4.0.3' 2> >(grep -v "is ignored: it is neither" >&2)

step "redis and postgres images built locally on $base"
quiet_build() { docker build -q "$@" >/dev/null 2> >(grep -v "DEPRECATED\|buildx\|docs.docker.com\|^$" >&2); }
quiet_build -f deploy/services/redis.Dockerfile --build-arg BASE_IMAGE="$base" -t coursegrade-redis:7 deploy/services
quiet_build -f deploy/services/postgres.Dockerfile --build-arg BASE_IMAGE="$base" -t coursegrade-postgres:15 deploy/services

cat >"$WORK/env" <<EOF
SECRET_KEY=$(openssl rand -hex 32)
POSTGRES_PASSWORD=$(openssl rand -hex 24)
SANDBOX_IMAGE=$(.venv/bin/python -m sandbox tag)
DOCKER_GID=$(stat -c %g /var/run/docker.sock)
BASE_IMAGE=$base
REDIS_IMAGE=coursegrade-redis:7
POSTGRES_IMAGE=coursegrade-postgres:15
COURSEGRADE_IMAGE=coursegrade:proof
WEB_PORT=$PORT
SANDBOX_ENVIRONMENTS=base
EOF

down() { compose down -v --remove-orphans >/dev/null 2>&1 || true; }
trap 'status=$?; if [ $status -ne 0 ]; then compose logs --tail 40 >&2 || true; down; fi' EXIT

step "docker-compose build"
compose build -q
step "docker-compose up -d"
compose up -d >/dev/null 2>&1

step "waiting for every service to be healthy"
for _ in $(seq 180); do
  unhealthy=""
  for service in web worker beat redis postgres; do
    id="$(compose ps -q "$service")"
    health="$(docker inspect -f '{{.State.Health.Status}}' "$id" 2>/dev/null || echo missing)"
    [ "$health" = healthy ] || unhealthy="$unhealthy $service:$health"
  done
  [ -z "$unhealthy" ] && break
  sleep 2
done
[ -z "$unhealthy" ] || { echo "error: not healthy:$unhealthy" >&2; exit 1; }
step "healthy: web worker beat redis postgres"

compose exec -T web python manage.py load_curriculum | tail -n 1
token="$(compose exec -T web python manage.py shell -c "
from rest_framework.authtoken.models import Token
from course.accounts.services import user_create
print(Token.objects.create(user=user_create(username='proof', role='instructor')[0]).key)" | tail -n 1 | tr -d '\r')"

step "submitting the NumPy reference solution to http://127.0.0.1:$PORT"
api="http://127.0.0.1:$PORT/api/v1"
auth="Authorization: Token $token"
id="$(curl -sf -H "$auth" -F "notebook=@exercises/numpy/normalize-rows/solution.ipynb" \
  "$api/exercises/normalize-rows/submissions" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
submitted=$SECONDS
for _ in $(seq 300); do
  body="$(curl -sf -H "$auth" "$api/submissions/$id")"
  state="$(printf '%s' "$body" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
  case "$state" in graded | error) break ;; esac
  sleep 1
done
score="$(printf '%s' "$body" | .venv/bin/python -c 'import json,sys; b=json.load(sys.stdin); print(b["status"], b["score"], "/", b["max_score"])')"
step "submission $id: $score ($((SECONDS - submitted)) s from POST)"
case "$score" in "graded 8.0 / 8.0") ;; *) echo "error: expected full marks" >&2; exit 1 ;; esac

step "docker-compose down -v"
compose down -v --remove-orphans >/dev/null 2>&1
trap - EXIT
left="$(left_of_project)"
sandbox_after="$(sandbox_objects)"
step "left of the project: $left objects; sandbox objects: $sandbox_before before, $sandbox_after after"
[ "$left" -eq 0 ] && [ "$sandbox_after" -le "$sandbox_before" ] || exit 1
step "production path proven"
