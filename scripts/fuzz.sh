#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang in build-fuzz and runs
# each for SECONDS (default 60). The seed corpus in tests/fuzz/corpus/ is only
# read; new inputs go to build-fuzz/fuzz-corpus/<target>/, crashes and other
# findings to tests/fuzz/artifacts/ (git-ignored).
#
#   scripts/fuzz.sh [SECONDS]
#
# Reproduce a finding: build-fuzz/bin/<target> tests/fuzz/artifacts/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
seconds="${1:-60}"
build="$root/build-fuzz"
artifacts="$root/tests/fuzz/artifacts"
targets=(fuzz_frame_decoder fuzz_frame_reassembler fuzz_payload_renderer)

CXX=clang++ CC=clang cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUVFRAME_BUILD_FUZZ=ON -DUVFRAME_BUILD_TESTS=ON -DUVFRAME_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" -j "$(( $(nproc) < 2 ? $(nproc) : 2 ))" "${targets[@]}"
mkdir -p "$artifacts"

status=0
for target in "${targets[@]}"; do
  work="$build/fuzz-corpus/$target"
  mkdir -p "$work"
  echo "== $target for ${seconds}s"
  if ! "$build/bin/$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$target-" "$work" "$root/tests/fuzz/corpus/$target"; then
    echo "== $target FAILED: see $artifacts/" >&2
    status=1
  fi
done
exit "$status"
