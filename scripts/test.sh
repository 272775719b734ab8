#!/usr/bin/env bash
# The full test suite from a fresh machine: packages, npm ci, then test/run.sh (build, unit and
# end-to-end tests against a private dockerd and sysbox-mgr). Does not touch the host's Docker.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (sudo $0)" >&2; exit 1; }
scripts/deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec test/run.sh "$@"
