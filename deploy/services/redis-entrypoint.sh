#!/bin/sh
# As the official image: the command may start with "redis-server" itself (docker-compose.yml's does).
[ "${1:-}" = redis-server ] && shift
exec redis-server --bind 0.0.0.0 --protected-mode no --dir /data "$@"
