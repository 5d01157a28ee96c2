#!/usr/bin/env bash
# Cross-builds the three programs for Windows x64 with MinGW-w64 on Debian:
#   build-windows/bin/uvframe-server.exe, uvframe-client.exe, uvframe-loadgen.exe
# statically linked (no DLLs to carry), without TLS and metrics (no OpenSSL or
# prometheus-cpp for MinGW in Debian: those options exit 2 saying so), with
# Windows code pages instead of iconv. Then they can be run under Wine
# (scripts/test-windows.sh) or copied to a Windows machine.
#
# Installs what is missing first (apt-get; as root or through sudo): the MinGW
# compilers (posix threads model), wine and wine64 (for the tests), and the
# sources of libuv, fmt and spdlog (apt-get source libuv1 fmtlib spdlog, at the
# versions of the installed libuv1-dev, libfmt-dev and libspdlog-dev, so the
# same as the Linux build; a deb-src entry mirroring the existing deb entries
# is added when there is none), unpacked into build-windows/deps/src. CLI11
# and nlohmann-json stay header-only (copies of their /usr/include headers).
# Then one CMake configure and one ninja run (cmake/CrossDependencies.cmake,
# cmake/mingw-w64-x86_64.cmake) build libuv (static, its own CMakeLists), fmt
# and spdlog (static libraries, spdlog compiled against that fmt, not
# header-only: each uvframe file no longer compiles them) and the three
# programs together, so both CPUs stay busy; only what the programs link is
# built. Cold: about 6.5 min of CPU time (7.8 min with header-only fmt and
# spdlog and libuv built apart), 8 min on a busy shared 2-CPU machine (11.5).
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
    -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
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

# The source of the installed -dev package's version (libuv1-dev, libfmt-dev,
# libspdlog-dev: the Windows programs use the same libuv, fmt and spdlog as
# the Linux ones), or the candidate's when it is not installed.
# src_spec[i]: the argument of apt-get source; src_dir[i]: its unpacked tree.
names=(libuv fmt spdlog)
source_packages=(libuv1 fmtlib spdlog)
dev_packages=(libuv1-dev libfmt-dev libspdlog-dev)
markers=(include/uv.h src/format.cc src/spdlog.cpp)
src_spec=()
src_dir=()
find_src() {  # index
  local i="$1" name="${source_packages[$1]}" v="" d
  v="$(dpkg-query -W -f='${source:Version}' "${dev_packages[$i]}" 2>/dev/null || true)"
  if [[ -n "$v" ]]; then
    src_spec[i]="$name=$v"
    v="${v#*:}"  # the unpacked tree: NAME-UPSTREAM (no epoch, no Debian revision)
    d="$deps/src/$name-${v%-*}"
    [[ -f "$d/${markers[$i]}" ]] && src_dir[i]="$d" || src_dir[i]=""
  else
    src_spec[i]="$name"
    d="$(find "$deps/src" -mindepth 1 -maxdepth 1 -type d -name "$name-*" 2>/dev/null | sort | tail -n1)"
    [[ -n "$d" && -f "$d/${markers[$i]}" ]] && src_dir[i]="$d" || src_dir[i]=""
  fi
}
wanted=()
for i in "${!names[@]}"; do
  find_src "$i"
  [[ -n "${src_dir[i]}" ]] || wanted+=("${src_spec[i]}")
done
if [[ ${#wanted[@]} -gt 0 ]]; then
  mkdir -p "$deps/src"
  if ! (cd "$deps/src" && apt-get source --download-only "${wanted[@]}" >/dev/null 2>&1); then
    can_install || cannot "no source for ${wanted[*]} (apt-get source needs a deb-src entry and root)"
    if ! apt-get source --print-uris "${wanted[@]}" >/dev/null 2>&1; then
      add_deb_src || cannot "no deb entry in /etc/apt to mirror as deb-src"
    fi
    apt_update || cannot "apt-get update failed (no network?)"
    (cd "$deps/src" && apt-get source --download-only "${wanted[@]}" >/dev/null 2>&1) ||
      cannot "apt-get source ${wanted[*]} failed (no network?)"
  fi
  for i in "${!names[@]}"; do
    [[ -z "${src_dir[i]}" ]] || continue
    v="${src_spec[i]#*=}"
    v="${v#*:}"
    if [[ "${src_spec[i]}" == *=* ]]; then
      dsc="$deps/src/${source_packages[i]}_$v.dsc"
    else
      dsc="$(find "$deps/src" -maxdepth 1 -name "${source_packages[i]}_*.dsc" | sort | tail -n1)"
    fi
    [[ -f "$dsc" ]] || cannot "apt-get source ${src_spec[i]} gave no .dsc"
    (cd "$deps/src" && dpkg-source -x --no-check "$dsc" >/dev/null)
    find_src "$i"
    [[ -n "${src_dir[i]}" ]] || cannot "the ${names[i]} source (${src_spec[i]}) did not unpack"
  done
fi
for i in "${!names[@]}"; do ln -sfn "${src_dir[i]}" "$deps/${names[i]}-src"; done

toolchain="$root/cmake/mingw-w64-x86_64.cmake"
start=$SECONDS

# --- header-only libraries: only these headers, never /usr/include --------
mkdir -p "$deps/include"
# Left by earlier versions of this script (header-only spdlog and fmt, libuv
# built apart): they must not shadow the source packages' headers.
rm -rf "${deps:?}/include/spdlog" "${deps:?}/include/fmt" "${deps:?}/libuv-build"
for d in CLI nlohmann; do
  [[ -d "/usr/include/$d" ]] || cannot "/usr/include/$d missing (run scripts/setup.sh)"
  if [[ ! -d "$deps/include/$d" || "/usr/include/$d" -nt "$deps/include/$d" ]]; then
    rm -rf "${deps:?}/include/$d"
    cp -r "/usr/include/$d" "$deps/include/$d"
  fi
done

# --- uvframe ---------------------------------------------------------------
echo "== uvframe, libuv ($(basename "${src_dir[0]}")), fmt ($(basename "${src_dir[1]}")) and spdlog ($(basename "${src_dir[2]}")) for Windows x64 (MinGW-w64, static; no TLS, no metrics)"
cmake -S "$root" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DUVFRAME_CROSS_DEPS="$deps" \
  -DUVFRAME_WITH_TLS=OFF -DUVFRAME_WITH_METRICS=OFF -DUVFRAME_WINDOWS_CODE_PAGES=ON \
  -DUVFRAME_BUILD_TESTS=OFF -DUVFRAME_BUILD_BENCH=OFF >/dev/null
cmake --build "$out" -j "$jobs" --target uvframe-server uvframe-client uvframe-loadgen
ls -l "$out"/bin/uvframe-{server,client,loadgen}.exe
echo "== built in $((SECONDS - start)) s"
