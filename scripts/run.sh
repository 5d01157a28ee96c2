#!/usr/bin/env bash
# Sets up, builds (Release) and starts uvframe-server, by default on port 9000.
# Every argument is passed to the server, e.g.
#   scripts/run.sh --log-file /var/log/uvframe.log --payload-encoding cp949
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target uvframe-server uvframe-client uvframe-loadgen
# Many clients need many descriptors: take what the hard limit allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec build/bin/uvframe-server "$@"
