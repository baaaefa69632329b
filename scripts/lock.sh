#!/usr/bin/env bash
# Writes the lock files from pyproject.toml's declarations (uv's resolver, pip-compatible output):
#   requirements.lock          runtime + test + bench + lock extras: what scripts/test.sh and CI install
#   alertflow/data/runtime.lock the runtime part alone, at the same versions: what the image installs,
#                              shipped in the package so alertflow.pinned can compare installed versions
# Both carry hashes, so pip installs them in hash-checking mode. Plain pip reads them; uv only writes them.
#
#   bash scripts/lock.sh                          keep every pin that still satisfies pyproject.toml
#   bash scripts/lock.sh --upgrade                move every pin to the newest allowed release
#   bash scripts/lock.sh --upgrade-package NAME   move one
# then run the suite (bash scripts/test.sh) before committing the new locks.
set -euo pipefail
cd "$(dirname "$0")/.."
uv="${UV:-$(command -v uv || echo .venv/bin/uv)}"
common=(--python-version 3.11 --generate-hashes --quiet --custom-compile-command "bash scripts/lock.sh")
"$uv" pip compile pyproject.toml --extra test --extra bench --extra lock "${common[@]}" "$@" \
  --output-file requirements.lock
"$uv" pip compile pyproject.toml "${common[@]}" --constraint requirements.lock \
  --output-file alertflow/data/runtime.lock
