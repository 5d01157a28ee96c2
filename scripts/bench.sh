#!/usr/bin/env bash
# End-to-end benchmark: uvframe-loadgen drives, one after the other and with
# the same settings, the plain C reference server (parse only, and --log),
# uvframe-server with message lines off, logging every message to a file, and
# with --echo (latency); plus uvframe-blaster into the plain reference to find
# the load generator's own ceiling. Payloads of 64 and 1024 bytes, 100 and
# 10,000 connections. Prints one table (frames/s, MB/s, server CPU %, RSS,
# ratio to the matching reference, echo latency), writes
# bench/results/<date>.json and a PNG chart of the ratios beside it.
#
#   scripts/bench.sh                    full matrix, 5 s per load (~5 min)
#   scripts/bench.sh --quick            64 B, 100 + 10,000 connections, 2 s per load (< 60 s)
#   scripts/bench.sh --build-dir DIR    use the binaries in DIR/bin (default: build)
#   scripts/bench.sh --no-build         do not (re)build them first
#   scripts/bench.sh --no-peers         skip the peer race
# Then the peer race (bench/peer_race.py): uvframe-server --framing
# octet-counting against rsyslog (imptcp and imtcp, bench/peers/) on the same
# octet-counted loadgen traffic, 64 and 512 B, 100 and 1,000 connections
# (--quick: 64 B, 100), lines written per second end to end, completeness,
# CPU per line and RSS; rsyslog comes from scripts/setup.sh.
# Other options go to bench/bench_driver.py: --duration S, --sizes 64,1024,
# --connections 100,10000, --scenarios uv_log,ref_log, --server-threads N,
# --load-threads N, --repeat N (best of N runs, for a busy machine),
# --nice -10 (root: servers and loads ahead of other work on the machine),
# --pipeline N|auto (loadgen frames in flight per connection without --echo;
# auto keeps about 64 KiB in flight, as the blaster does),
# --split-cpus (servers on the first half of the CPUs, loads on the second:
# the load's own work, TLS encryption above all, then takes none of the
# server's CPU; e.g. --scenarios uv_log,uv_log_tls --sizes 64,1024 --split-cpus).
#
# Every load targets 127.0.0.1 only and is bounded in time; whatever this
# script started is killed when it exits. The microbenchmarks (bench_codec,
# bench_render, bench_log_line) are run by hand, see bench/CMakeLists.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=build
build=1
peers=1
quick=0
driver_args=()
while (($#)); do
  case "$1" in
    --build-dir)
      build_dir="$2"
      shift 2
      ;;
    --build-dir=*)
      build_dir="${1#*=}"
      shift
      ;;
    --no-build)
      build=0
      shift
      ;;
    --no-peers)
      peers=0
      shift
      ;;
    --quick)
      quick=1
      driver_args+=("$1")
      shift
      ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *)
      driver_args+=("$1")
      shift
      ;;
  esac
done

# 10,000 connections need 10,000 descriptors in the server and as many in the
# load generator (each its own process, each with this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
nofile="$(ulimit -n)"
if [[ "$nofile" != unlimited ]] && ((nofile < 10300)); then
  echo "bench: warning: ulimit -n is $(ulimit -n); 10,000 connections may fail" >&2
fi

targets=(uvframe-server uvframe-loadgen uvframe-reference-server uvframe-blaster)
if ((build)); then
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUVFRAME_BUILD_BENCH=ON >/dev/null
  fi
  for t in "${targets[@]}"; do
    # Build what builds; the driver reports what it could not run.
    cmake --build "$build_dir" --target "$t" >/dev/null 2>&1 ||
      echo "bench: warning: could not build $t" >&2
  done
fi

pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    # The driver kills its servers and loads on SIGTERM.
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The chart needs matplotlib, which Debian installs for /usr/bin/python3; a
# python3 earlier on PATH (pyenv, a venv) may not have it.
python=python3
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import matplotlib' 2>/dev/null; then
    python="$candidate"
    break
  fi
done

"$python" bench/bench_driver.py --bindir "$build_dir/bin" --results bench/results \
  "${driver_args[@]+"${driver_args[@]}"}" &
pid=$!
status=0
wait "$pid" || status=$?

# The peer race, in the same run: rsyslog (imptcp, imtcp) and uvframe-server
# on the same octet-counted traffic (bench/peer_race.py, bench/peers/).
if ((peers)); then
  race_args=(--bindir "$build_dir/bin" --results bench/results)
  ((quick)) && race_args+=(--quick)
  "$python" bench/peer_race.py "${race_args[@]}" &
  pid=$!
  wait "$pid" || status=$?
fi
exit "$status"
