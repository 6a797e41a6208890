#!/bin/sh
# A read-only login for Grafana's TimescaleDB datasource. The timescaledb image runs this once, when it initialises
# an empty data directory (docker-entrypoint-initdb.d), before the daemon's first migration creates the tables:
# the default privileges below make every table and view the daemon's user creates later readable, nothing writable.
# (An existing data volume skips init scripts: run the SQL below by hand with psql, or start from a fresh volume.)
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="${GRAFANA_DB_PASSWORD:?set GRAFANA_DB_PASSWORD}" -v dbname="$POSTGRES_DB" -v owner="$POSTGRES_USER" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'reader_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
ALTER ROLE grafana_reader SET statement_timeout = '30s';
GRANT CONNECT ON DATABASE :"dbname" TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL
