#!/usr/bin/env bash
# Sets up everything the tests need (PostgreSQL, Chromium, Java, Python packages), starts
# PostgreSQL on localhost, then runs lint, type checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
source scripts/postgres.sh
export WHEREABOUTS_TEST_DATABASE_URL
export WHEREABOUTS_REQUIRE_NATIVE=1  # the compiled engine must have been built (tests/test_engine_native.py)
.venv/bin/ruff check src tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
