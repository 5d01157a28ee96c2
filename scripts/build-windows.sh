#!/usr/bin/env bash
# Cross-builds the three programs for Windows x64 with MinGW-w64 on Debian:
#   build-windows/bin/uvframe-server.exe, uvframe-client.exe, uvframe-loadgen.exe
# statically linked (no DLLs to carry), without TLS and metrics (no OpenSSL or
# prometheus-cpp for MinGW in Debian: those options exit 2 saying so), with
# Windows code pages instead of iconv. Then they can be run under Wine
# (scripts/test-windows.sh) or copied to a Windows machine.
#
# Installs what is missing first (apt-get; as root or through sudo): the MinGW
# compilers (posix threads model), wine and wine64 (for the tests), and
# libuv's source (apt-get source libuv1, the same version as the Linux build;
# a deb-src entry mirroring the existing deb entries is added when there is
# none). libuv is cross-built once into build-windows/deps, with its own
# CMakeLists and cmake/mingw-w64-x86_64.cmake.
#
# Exit status: 0 built; 77 it cannot be built here (a tool is missing and
# cannot be installed, e.g. without network), with the reason on stderr;
# anything else: the build failed.
#
#   scripts/build-windows.sh [--no-install] [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/build-windows"
deps="$out/deps"
jobs="$(nproc)"
install=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-install) install=0 ;;
    --jobs) jobs="$2"; shift ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build-windows.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

cannot() {
  echo "build-windows.sh: cannot build for Windows here: $*" >&2
  exit 77
}

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo -n); fi
fi
can_install() { [[ "$install" -eq 1 ]] && { [[ "$(id -u)" -eq 0 ]] || [[ ${#sudo[@]} -gt 0 ]]; }; }

apt_updated=0
apt_update() {
  [[ "$apt_updated" -eq 1 ]] && return 0
  "${sudo[@]}" apt-get update -qq >/dev/null || return 1
  apt_updated=1
}

# --- the tools -----------------------------------------------------------
packages=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
          wine wine64 dpkg-dev cmake ninja-build)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  can_install || cannot "missing ${missing[*]} (install them, or run as root)"
  echo "== installing ${missing[*]}"
  apt_update || cannot "apt-get update failed (no network?)"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || cannot "apt-get install ${missing[*]} failed"
fi
command -v x86_64-w64-mingw32-g++-posix >/dev/null || cannot "x86_64-w64-mingw32-g++-posix not found"

# --- libuv's source ------------------------------------------------------
# A deb-src entry for every deb entry, in a file of our own, when apt has no
# source entry at all.
add_deb_src() {
  local sources=/etc/apt/sources.list.d/uvframe-deb-src.sources
  local list=/etc/apt/sources.list.d/uvframe-deb-src.list
  local stanzas lines f
  stanzas="$(mktemp)"
  lines="$(mktemp)"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -e "$f" && "$f" != "$sources" ]] || continue
    # deb822: the same stanzas, Types: deb-src only.
    awk '/^Types:/ { if ($0 ~ /(^|[ \t])deb([ \t]|$)/) print "Types: deb-src"; else print "Types: none"; next } { print }' \
      "$f" | awk 'BEGIN { RS=""; ORS="\n\n" } !/Types: none/' >>"$stanzas"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -e "$f" && "$f" != "$list" ]] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$lines"
  done
  local added=0
  if [[ -s "$stanzas" ]]; then
    "${sudo[@]}" install -m 644 "$stanzas" "$sources" && added=1
    echo "== added $sources (deb-src entries mirroring the deb ones)"
  fi
  if [[ -s "$lines" ]]; then
    "${sudo[@]}" install -m 644 "$lines" "$list" && added=1
    echo "== added $list (deb-src lines mirroring the deb ones)"
  fi
  rm -f "$stanzas" "$lines"
  apt_updated=0
  [[ "$added" -eq 1 ]]
}

uv_src=""
find_uv_src() {
  uv_src="$(find "$deps/src" -mindepth 2 -maxdepth 2 -name CMakeLists.txt -path '*libuv1-*' \
              2>/dev/null | head -n1 || true)"
  uv_src="${uv_src%/CMakeLists.txt}"
}
find_uv_src
if [[ -z "$uv_src" ]]; then
  mkdir -p "$deps/src"
  if ! (cd "$deps/src" && apt-get source --download-only libuv1 >/dev/null 2>&1); then
    can_install || cannot "no libuv source (apt-get source libuv1 needs a deb-src entry and root)"
    if ! apt-get source --print-uris libuv1 >/dev/null 2>&1; then
      add_deb_src || cannot "no deb entry in /etc/apt to mirror as deb-src"
    fi
    apt_update || cannot "apt-get update failed (no network?)"
    (cd "$deps/src" && apt-get source --download-only libuv1 >/dev/null 2>&1) ||
      cannot "apt-get source libuv1 failed (no network?)"
  fi
  (cd "$deps/src" && dpkg-source -x --no-check ./libuv1_*.dsc >/dev/null)
  find_uv_src
  [[ -n "$uv_src" ]] || cannot "the libuv source did not unpack"
fi
ln -sfn "$uv_src" "$deps/libuv-src"

toolchain="$root/cmake/mingw-w64-x86_64.cmake"
start=$SECONDS

# --- libuv, static -------------------------------------------------------
if [[ ! -f "$deps/libuv-build/libuv_a.a" && ! -f "$deps/libuv-build/libuv.a" ]]; then
  echo "== libuv ($(basename "$uv_src")) for Windows x64"
  cmake -S "$deps/libuv-src" -B "$deps/libuv-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DLIBUV_BUILD_TESTS=OFF -DLIBUV_BUILD_BENCH=OFF \
    -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$deps/libuv-build" -j "$jobs" --target uv_a >/dev/null
fi

# --- header-only libraries: only these headers, never /usr/include --------
mkdir -p "$deps/include"
for d in spdlog fmt CLI nlohmann; do
  [[ -d "/usr/include/$d" ]] || cannot "/usr/include/$d missing (run scripts/setup.sh)"
  if [[ ! -d "$deps/include/$d" || "/usr/include/$d" -nt "$deps/include/$d" ]]; then
    rm -rf "${deps:?}/include/$d"
    cp -r "/usr/include/$d" "$deps/include/$d"
  fi
done

# --- uvframe ---------------------------------------------------------------
echo "== uvframe for Windows x64 (MinGW-w64, static; no TLS, no metrics)"
cmake -S "$root" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DUVFRAME_CROSS_DEPS="$deps" \
  -DUVFRAME_WITH_TLS=OFF -DUVFRAME_WITH_METRICS=OFF -DUVFRAME_WINDOWS_CODE_PAGES=ON \
  -DUVFRAME_BUILD_TESTS=OFF -DUVFRAME_BUILD_BENCH=OFF >/dev/null
cmake --build "$out" -j "$jobs" --target uvframe-server uvframe-client uvframe-loadgen
ls -l "$out"/bin/uvframe-{server,client,loadgen}.exe
echo "== built in $((SECONDS - start)) s"
