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
node --experimental-detect-module --test tests/js/*.test.mjs  # the dashboard's reducer, map and location, push notifications

# With no arguments, or only options that change what pytest prints or stop it at a failure,
# the chaos tests run beside the rest in a pytest of their own: they are a third of the suite's
# time and mostly wait for processes to die, restart and catch up. Each run picks ports from its
# own half of the range (alertflow/local_ports.py) and keeps its own cache. Any other argument (paths, -k, -m, --lf,
# --junitxml…) runs one pytest with exactly those arguments.
for arg in "$@"; do
  case "$arg" in
    -q | -v | -vv | -x | -r* | --tb=* | --durations=*) ;;
    *) exec .venv/bin/pytest "$@" ;;
  esac
done
chaos_log="$(mktemp)"
# Background jobs of a script ignore SIGINT; the subshell restores it, so that stopping this
# script (trap below) stops the chaos tests through pytest's own KeyboardInterrupt, which
# lets their fixtures stop the private servers they started.
(trap - INT; ALERTFLOW_PORT_SLICE=1/2 exec .venv/bin/pytest -o cache_dir=.pytest_cache/chaos \
   tests/chaos "$@") >"$chaos_log" 2>&1 &
chaos_pid=$!
stop_chaos() {
  if kill -0 "$chaos_pid" 2>/dev/null; then
    kill -INT "$chaos_pid" 2>/dev/null || true
    wait "$chaos_pid" 2>/dev/null || true
  fi
  rm -f "$chaos_log"
}
trap stop_chaos EXIT
status=0
ALERTFLOW_PORT_SLICE=0/2 .venv/bin/pytest --ignore=tests/chaos "$@" || status=$?
echo "=== the chaos tests (tests/chaos, pid $chaos_pid), run beside the rest: waiting for them ==="
chaos_status=0
wait "$chaos_pid" || chaos_status=$?
cat "$chaos_log"
echo "=== pytest exit status: the rest $status, the chaos tests $chaos_status ==="
exit $((status != 0 ? status : chaos_status))
