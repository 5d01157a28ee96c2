#!/usr/bin/env bash
# The Windows programs under Wine: cross-builds them (scripts/build-windows.sh,
# which installs MinGW-w64, Wine and libuv's source when missing), then runs
# tests/wine/wine_test.py: the .exe files against the Linux programs of
# LINUX_BIN (default build/bin) and against raw sockets, in the Wine prefix
# build-windows/wineprefix (headless, created on first use and kept).
#
#   scripts/test-windows.sh [LINUX_BIN]
#
# When they cannot be built or run here (no network to install Wine or
# MinGW, not root), it says why and exits 0 (skipped), unless
# UVFRAME_REQUIRE_WINE=1 (then 1). scripts/test.sh runs it after the Release
# stage.
set -euo pipefail
cd "$(dirname "$0")/.."
linux_bin="${1:-build/bin}"

skip() {
  if [[ "${UVFRAME_REQUIRE_WINE:-0}" == 1 ]]; then
    echo "== FAILED: Windows programs under Wine: $* (UVFRAME_REQUIRE_WINE=1)" >&2
    exit 1
  fi
  echo "== SKIPPED: Windows programs under Wine: $*"
  exit 0
}

start=$SECONDS
rc=0
scripts/build-windows.sh --jobs "${JOBS:-$(nproc)}" || rc=$?
[[ $rc -eq 77 ]] && skip "they cannot be built here (see the reason above)"
[[ $rc -eq 0 ]] || exit "$rc"
echo "== Windows build ready after $((SECONDS - start)) s; tests under Wine"
rc=0
python3 tests/wine/wine_test.py --linux-bin "$linux_bin" || rc=$?
[[ $rc -eq 77 ]] && skip "Wine cannot run them here (see the reason above)"
echo "== Windows stage: $((SECONDS - start)) s"
exit "$rc"
