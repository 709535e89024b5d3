#!/usr/bin/env bash
# `pelican fleet migrate -j J` against a shell loop of `diesel migration run`, side by side
# in one run, on the local PostgreSQL server: SCHEMAS schema tenants of one database and
# DATABASES database tenants, each taking the same MIGRATIONS pending migrations
# (benches/workloads/gen_migrations.py). Every case starts from the same fresh tenants;
# the time is the whole command (or loop), wall clock, best of RUNS.
#
#   benches/fleet.sh                     # 200 schemas, 50 databases, 20 migrations, -j 8
#   SCHEMAS=20 DATABASES=0 benches/fleet.sh
#
# Needs target/release/pelican (cargo build --release --all-features --bin pelican) and
# diesel CLI (on PATH or under target/tools/bin, where scripts/bench installs it; without
# it the diesel loop is left out).
set -euo pipefail

SCHEMAS=${SCHEMAS:-200}
DATABASES=${DATABASES:-50}
MIGRATIONS=${MIGRATIONS:-20}
JOBS=${JOBS:-8}
RUNS=${RUNS:-3}
SERVER=${PELICAN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
PELICAN=${PELICAN:-$PWD/target/release/pelican}
export PATH="$PWD/target/tools/bin:$PATH"
DIESEL=$(command -v diesel || true)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/workloads/gen_migrations.py "$work/migrations" "$MIGRATIONS" postgres >/dev/null
# diesel CLI looks for a project; an empty one, without a schema file to write.
touch "$work/Cargo.toml"
printf '[migrations_directory]\ndir = "migrations"\n' >"$work/diesel.toml"
cd "$work"

db=pelican_bench_fleet
psql_server() { PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 -d "$SERVER/postgres" "$@" >/dev/null; }

# Fresh tenants: the schemas of one database, and the databases.
fresh() {
  psql_server -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  psql -q -X -v ON_ERROR_STOP=1 -d "$SERVER/$db" >/dev/null -c \
    "DO \$\$ BEGIN FOR i IN 1..$SCHEMAS LOOP
       EXECUTE format('CREATE SCHEMA tenant_%s', lpad(i::text, 4, '0')); END LOOP; END \$\$"
  for i in $(seq 1 "$DATABASES"); do
    psql_server -c "DROP DATABASE IF EXISTS ${db}_$i" -c "CREATE DATABASE ${db}_$i"
  done
}

schema_urls() {
  for i in $(seq 1 "$SCHEMAS"); do
    printf '%s/%s?options=-csearch_path%%3Dtenant_%04d\n' "$SERVER" "$db" "$i"
  done
}
database_urls() {
  for i in $(seq 1 "$DATABASES"); do printf '%s/%s_%s\n' "$SERVER" "$db" "$i"; done
}

# best_of LABEL COMMAND…: the best wall-clock time of RUNS runs, each on fresh tenants.
best_of() {
  local label=$1 best="" start end took
  shift
  for _ in $(seq 1 "$RUNS"); do
    fresh
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    took=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || [ "$(echo "$took < $best" | bc)" = 1 ]; then best=$took; fi
  done
  printf '%-52s %8.2f s\n' "$label" "$best"
}

diesel_loop() {
  while read -r url; do
    "$DIESEL" migration run --database-url "$url" --migration-dir migrations >/dev/null
  done <"$1"
}
fleet() { "$PELICAN" --migration-dir migrations -q fleet "$@" >/dev/null; }

schema_urls >schemas.txt
database_urls >databases.txt
echo "$SCHEMAS schema tenants, $DATABASES database tenants, $MIGRATIONS migrations each, $(nproc) cores"
if [ "$SCHEMAS" -gt 0 ]; then
  [ -n "$DIESEL" ] && best_of "schemas: diesel migration run, a shell loop" diesel_loop schemas.txt
  best_of "schemas: pelican fleet migrate -j 1" fleet --targets schemas.txt -j 1 migrate
  best_of "schemas: pelican fleet migrate -j $JOBS" fleet --targets schemas.txt -j "$JOBS" migrate
  best_of "schemas: pelican fleet migrate -j $JOBS --schemas" \
    fleet --database-url "$SERVER/$db" --schemas 'tenant_*' -j "$JOBS" migrate
  fresh
  fleet --targets schemas.txt -j "$JOBS" migrate
  start=$(date +%s.%N)
  fleet --targets schemas.txt -j "$JOBS" status
  printf '%-52s %8.2f s\n' "schemas: pelican fleet status -j $JOBS (at head)" \
    "$(echo "$(date +%s.%N) - $start" | bc)"
fi
if [ "$DATABASES" -gt 0 ]; then
  [ -n "$DIESEL" ] && best_of "databases: diesel migration run, a shell loop" diesel_loop databases.txt
  best_of "databases: pelican fleet migrate -j 1" fleet --targets databases.txt -j 1 migrate
  best_of "databases: pelican fleet migrate -j $JOBS" fleet --targets databases.txt -j "$JOBS" migrate
fi
psql_server -c "DROP DATABASE IF EXISTS $db"
for i in $(seq 1 "$DATABASES"); do psql_server -c "DROP DATABASE IF EXISTS ${db}_$i"; done
