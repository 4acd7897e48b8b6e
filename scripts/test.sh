#!/usr/bin/env bash
# README command 2: run the tests (sets up first if needed).
#   scripts/test.sh             unit + integration tests, then the safety eval gate
#   scripts/test.sh --quick     unit tests only (no real model, no browser)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/test-deps.sh || echo "test.sh: some system test dependencies could not be installed; those tests will say so and skip." >&2

if [ "${1:-}" = "--quick" ]; then
  exec .venv/bin/python -m pytest -m "not slow" -q
fi
.venv/bin/python -m pytest -q
.venv/bin/companion eval safety
if .venv/bin/companion eval --help 2>/dev/null | grep -q replies; then
  # temperature 0: the same replies on every run, so the gate does not flake
  COMPANION_LLM_TEMPERATURE=0 .venv/bin/companion eval replies --subset "${COMPANION_EVAL_SUBSET:-8}"
fi
