#!/usr/bin/env bash
# Sets up whereabouts on a fresh Debian machine with Python 3.11+.
#   scripts/setup.sh          the demo's needs: PDF renderer libraries, a virtualenv, the package
#   scripts/setup.sh --test   also what the tests need: PostgreSQL, Chromium, a Java runtime
#   scripts/setup.sh --bench  also the engine benchmark's baseline: PostGIS (and the test needs)
# Idempotent: runs again in seconds once everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_bench=0
[ "${1:-}" = "--test" ] && want_test=1
[ "${1:-}" = "--bench" ] && want_test=1 && want_bench=1

# gcc, libc6-dev, python3-dev: the engine's compiled candidate search (setup.py; optional:
# the engine falls back to numpy without it)
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core poppler-utils
          gcc libc6-dev python3-dev)
if [ "$want_test" = 1 ]; then
  packages+=(postgresql postgresql-client chromium default-jre-headless openssl)  # openssl: a local timestamp authority (openssl ts -reply)
fi
if [ "$want_bench" = 1 ]; then
  packages+=(postgresql-15-postgis-3)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "Installing system packages: ${missing[*]}"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: not a Debian system; install these yourself: ${missing[*]}" >&2
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ "$want_test" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
