# Sourced by scripts/test.sh: starts the Debian PostgreSQL cluster on localhost and makes a
# test database; sets WHEREABOUTS_TEST_DATABASE_URL. Skips quietly when no server is installed.
WHEREABOUTS_TEST_DATABASE_URL=""
if command -v pg_lsclusters >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  version=$(pg_lsclusters -h | awk 'NR==1{print $1}')
  cluster=$(pg_lsclusters -h | awk 'NR==1{print $2}')
  if [ -n "$version" ]; then
    pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
    for _ in $(seq 1 30); do
      su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
      sleep 1
    done
    su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='whereabouts'\"" | grep -q 1 ||
      su postgres -c "psql -qc \"create role whereabouts login password 'whereabouts' createdb\""
    su postgres -c "psql -qtAc \"select 1 from pg_database where datname='whereabouts_test'\"" | grep -q 1 ||
      su postgres -c "createdb -O whereabouts whereabouts_test"
    WHEREABOUTS_TEST_DATABASE_URL="postgresql+psycopg://whereabouts:whereabouts@127.0.0.1:5432/whereabouts_test"
  fi
fi
