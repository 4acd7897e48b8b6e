#!/usr/bin/env bash
# System packages some tests use: Debian's chromium (browser tests) and PostgreSQL (session store).
# Installs them only when missing and only as root; otherwise those tests skip with a visible reason.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null | head -1)" ] || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "test-deps: missing ${need[*]} and not root; the tests that need them will skip." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null && apt-get clean
