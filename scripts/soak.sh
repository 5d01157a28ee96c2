#!/usr/bin/env bash
# Soak test, run by hand (not part of scripts/test.sh):
#   scripts/soak.sh MINUTES [options of scripts/soak.py]
# Builds the Release server (and uvframe-loadgen, when it builds) into
# build/bin, then loads the server for MINUTES while sampling its RSS and
# open descriptors every few seconds. Fails on growth beyond the bounds that
# scripts/soak.py states (--max-rss-growth-mib, --max-fd-growth); prints a
# table and writes samples.csv and rss.png (with python3-matplotlib).
# Example: scripts/soak.sh 10 --connections 1000 --rate 50000
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: scripts/soak.sh MINUTES [--connections N] [--rate R] [--size B|MIN-MAX] ..." >&2
  exit 2
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target uvframe-server
# The load generator is optional: the soak falls back to a Python load loop.
cmake --build build --target uvframe-loadgen >/dev/null 2>&1 ||
  echo "soak: uvframe-loadgen did not build; using the Python load loop" >&2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Prefer the system python3: that is where Debian's python3-matplotlib lives.
python=/usr/bin/python3
[[ -x "$python" ]] || python=python3
exec "$python" scripts/soak.py "$@"
