#!/usr/bin/env bash
# The whole test suite, as CI runs it: dependencies, the Docker engine, then build and mocha
# over unit, integration and e2e tests (npm test, which lints first). Exits non-zero when
# anything fails.
#
# WEAVE_TEST_AFTER_QUICKSTART=1 (.ci/run sets it) runs the README's first command,
# scripts/quickstart.sh, before the suite, and leaves what it set up (the `weave` command, the
# router in Docker, the weave bridge, /opt/cni/bin and /etc/cni/net.d) in place while the suite
# runs: the suite touches none of it, so it passes after the quick start as on a fresh machine.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ ${WEAVE_TEST_AFTER_QUICKSTART:-} == 1 ]]; then
  echo "==> bash scripts/quickstart.sh (the README's first command, before the suite)"
  bash scripts/quickstart.sh
fi

bash scripts/install-deps.sh
bash scripts/start-dockerd.sh

echo "==> npm test"
exec npm test
