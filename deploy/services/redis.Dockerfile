# redis:7 for hosts that cannot pull it (no registry): Debian bookworm's Redis 7 on a local Debian
# base image (the sandbox build's debootstrap base will do). Same command, port, /data volume and
# redis-cli as the official image, which is all docker-compose.yml relies on.
#   docker build -f deploy/services/redis.Dockerfile --build-arg BASE_IMAGE=... -t coursegrade-redis:7 deploy/services
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-tools \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown redis:redis /data
WORKDIR /data
# Listens on every interface of the container (the project network only: no published port).
COPY redis-entrypoint.sh /usr/local/bin/redis-entrypoint.sh
USER redis
EXPOSE 6379
ENTRYPOINT ["sh", "/usr/local/bin/redis-entrypoint.sh"]
CMD ["redis-server", "--appendonly", "yes"]
