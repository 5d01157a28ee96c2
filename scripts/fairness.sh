#!/usr/bin/env bash
# Fairness benchmark: the echo latency of 100 trickling peers (10 frames/s
# each, open loop) alone, then beside one flooding peer on the same worker
# (closed loop, small frames, a deep pipeline), with every message logged to
# a file. Prints p50/p99/p99.9 of the trickling peers in both runs and the
# ratio: a server that gives each connection a fair share per loop turn keeps
# the ratio small; one that lets a peer read for as long as it has bytes
# does not.
#
#   scripts/fairness.sh [--server PATH] [--duration S]
#
# Loopback only; every load is bounded in time; whatever it starts is killed
# when it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

server_bin=build/bin/uvframe-server
duration=5
while (($#)); do
  case "$1" in
    --server) server_bin="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "fairness.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
loadgen=build/bin/uvframe-loadgen
[[ -x "$server_bin" && -x "$loadgen" ]] || { echo "fairness.sh: build first (scripts/test.sh or cmake --build build)" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$server_bin" --host 127.0.0.1 --port "$port" --workers 1 --echo --no-console \
  --log-file "$work/server.log" --stats-interval 0 >"$work/server.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.log" 2>/dev/null && break
  sleep 0.1
done

trickle() {  # $1: json path
  "$loadgen" --port "$port" --connections 100 --rate 1000 --echo --size 64 \
    --duration "$duration" --warmup 1 --threads 1 --progress-interval 0 --json "$1" >/dev/null
}

trickle "$work/alone.json"
"$loadgen" --port "$port" --connections 1 --echo --pipeline 200000 --size 16 \
  --duration "$((duration + 3))" --threads 1 --progress-interval 0 --json "$work/flood.json" \
  >/dev/null 2>&1 &
pids+=($!)
sleep 1  # let the flood build up before measuring beside it
trickle "$work/beside.json"

/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
alone = json.load(open(f"{work}/alone.json"))["latency_us"]
beside = json.load(open(f"{work}/beside.json"))["latency_us"]
print(f"{'trickling peers (100 x 10/s)':32} {'p50 us':>9} {'p99 us':>9} {'p99.9 us':>9} {'max us':>9}")
for name, l in (("alone", alone), ("beside one flooder", beside)):
    print(f"{name:32} {l['p50']:>9.0f} {l['p99']:>9.0f} {l['p999']:>9.0f} {l['max']:>9.0f}")
print(f"p99 ratio beside/alone: {beside['p99'] / max(alone['p99'], 1):.1f}x")
PY
