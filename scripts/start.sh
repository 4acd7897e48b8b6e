#!/usr/bin/env bash
# README command 1: set everything up, then start the chat.
#   scripts/start.sh          the Streamlit page (http://localhost:8501), or
#   scripts/start.sh chat     the terminal chat.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mode=${1:-ui}
if [ "$mode" = "ui" ] && .venv/bin/companion --help 2>/dev/null | grep -E '^\│? *ui ' >/dev/null; then  # not -q: an early exit would SIGPIPE companion under pipefail
  exec .venv/bin/companion ui
fi
exec .venv/bin/companion chat
