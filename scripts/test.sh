#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite twice: a Release build, then
# an AddressSanitizer + UndefinedBehaviorSanitizer build; then runs each
# libFuzzer target for a bounded time. Exits non-zero on the first failure.
# CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
jobs="$(nproc)"

echo "== Release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DUVFRAME_SANITIZE=address,undefined -DUVFRAME_BUILD_BENCH=OFF
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 600

echo "== libFuzzer targets (clang, ASan + UBSan), about 20 s each"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUVFRAME_BUILD_FUZZ=ON -DUVFRAME_BUILD_BENCH=OFF
cmake --build build-fuzz -j "$jobs" --target fuzz_frame_decoder fuzz_payload_renderer
ctest --test-dir build-fuzz --output-on-failure -L fuzz
