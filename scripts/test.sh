#!/usr/bin/env bash
# Installs everything the test suite needs from this repository's own files and runs all of it.
# Used by README's test command and by CI (.ci/run). Safe to run again: each step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: the browser for dashboard tests and kubectl for the manifest tests.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v kubectl >/dev/null 2>&1 || need+=(kubectl)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v rabbitmq-server >/dev/null 2>&1 || need+=(rabbitmq-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing system packages (install them as root): ${need[*]}" >&2
  fi
fi

# The services the integration tests talk to.
bash scripts/services.sh

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip >/dev/null
# Every dependency at the version the lock pins (hash-checked), then the package itself.
.venv/bin/pip install -q -r requirements.lock
.venv/bin/pip install -q --no-deps -e .
.venv/bin/ruff check alertflow tests
.venv/bin/mypy
# Node's official socket.io-client for the client-compatibility tests, at the locked version.
(cd tests/js && npm ci --no-audit --no-fund --silent)
node --experimental-detect-module --test tests/js/dashboard-protocol.test.mjs tests/js/push-notification.test.mjs  # the dashboard's reducer, push notifications
exec .venv/bin/pytest "$@"
