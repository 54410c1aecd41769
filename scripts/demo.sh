#!/usr/bin/env bash
# Sets up, then runs the demo: a simulated force with a planted case → workspace →
# investigation → report, written to ./demo-output (or the folder given).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/whereabouts demo --out "${1:-demo-output}"
