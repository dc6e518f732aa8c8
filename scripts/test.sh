#!/usr/bin/env bash
# The whole test suite, as CI runs it: dependencies, the Docker engine, then build and mocha
# over unit, integration and e2e tests. Exits non-zero when anything fails.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/start-dockerd.sh

echo "==> npm test"
exec npm test
