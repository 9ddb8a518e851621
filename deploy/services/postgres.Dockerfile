# postgres:15 for hosts that cannot pull it (no registry): Debian bookworm's PostgreSQL 15 on a
# local Debian base image, with the part of the official image's interface docker-compose.yml
# uses: POSTGRES_DB/USER/PASSWORD create the database and its owner on a first start, the data
# lives in /var/lib/postgresql/data, it listens on 5432 with password authentication, pg_isready.
#   docker build -f deploy/services/postgres.Dockerfile --build-arg BASE_IMAGE=... -t coursegrade-postgres:15 deploy/services
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
EXPOSE 5432
ENTRYPOINT ["sh", "/usr/local/bin/postgres-entrypoint.sh"]
