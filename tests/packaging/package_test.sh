#!/usr/bin/env bash
# Builds the Debian package from a build tree (cpack -G DEB) and checks it:
# the files it holds, its control fields and conffiles, the extracted server
# (listens, logs a frame, exits 0 on SIGTERM), the logrotate snippet rotating
# a real log of that server (rename, SIGHUP, new file), and the systemd unit
# (systemd-analyze verify; skipped with a message where the tool is missing).
#   package_test.sh CPACK BUILD_DIR VERSION HAS_CONFIG(ON|OFF)
set -euo pipefail
cpack="$1" build="$2" version="$3" has_config="$4"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "package_test: $*" >&2
  exit 1
}

for tool in dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || fail "$tool is missing (dpkg-dev; scripts/setup.sh installs it)"
done

# --- The package.
"$cpack" --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }
deb="$work/out/uvframe_${version}_$(dpkg --print-architecture).deb"
[[ -f "$deb" ]] || { ls "$work/out" >&2; fail "no $(basename "$deb")"; }

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$work/contents"
expected=(/usr/bin/uvframe-server /usr/bin/uvframe-client /usr/bin/uvframe-loadgen
  /usr/lib/systemd/system/uvframe-server.service /etc/logrotate.d/uvframe-server
  /usr/share/doc/uvframe/README.Debian)
if [[ "$has_config" == ON ]]; then
  expected+=(/etc/uvframe/server.toml)
fi
for path in "${expected[@]}"; do
  grep -qx "$path" "$work/contents" || { cat "$work/contents" >&2; fail "$path is not in the package"; }
done
# Only the three programs: no tests, benchmarks or reference servers.
programs="$(grep '^/usr/bin/.' "$work/contents" | sort | tr '\n' ' ')"
[[ "$programs" == "/usr/bin/uvframe-client /usr/bin/uvframe-loadgen /usr/bin/uvframe-server " ]] ||
  fail "unexpected programs in the package: $programs"

[[ "$(dpkg-deb -f "$deb" Package)" == uvframe ]] || fail "Package is not uvframe"
depends="$(dpkg-deb -f "$deb" Depends)"
[[ "$depends" == *libuv1* && "$depends" == *libc6* ]] ||
  fail "Depends was not computed from the programs' libraries: '$depends'"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/logrotate.d/uvframe-server "$work/control/conffiles" || fail "logrotate snippet is no conffile"
if [[ "$has_config" == ON ]]; then
  grep -qx /etc/uvframe/server.toml "$work/control/conffiles" || fail "server.toml is no conffile"
fi
for script in postinst prerm postrm; do
  sh -n "$work/control/$script" || fail "$script does not parse"
done

# --- The extracted server: listening line, one message, SIGTERM -> exit 0.
root="$work/root"
dpkg-deb -x "$deb" "$root"
mkdir "$work/log"
"$root/usr/bin/uvframe-server" --port 0 --host 127.0.0.1 --workers 1 \
  --log-file "$work/log/server.log" >"$work/console" 2>&1 &
server_pid=$!
wait_for() { # PATTERN FILE: up to 10 s
  for _ in $(seq 100); do
    grep -q -- "$1" "$2" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/console" >&2; fail "the server exited early"; }
    sleep 0.1
  done
  cat "$2" >&2 || true
  fail "no line matching '$1' in $(basename "$2")"
}
wait_for 'listening on 127.0.0.1:[0-9]' "$work/console"
port="$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/console" | head -1 | sed 's/.*://')"
send_frame() { # TEXT (shorter than 256 bytes): 4-byte little-endian length, then TEXT
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf "\\x$(printf %02x "${#1}")\\x00\\x00\\x00%s" "$1" >&3
  exec 3>&-
}
send_frame "hello from the package"
wait_for '\[tcp/127.0.0.1:[0-9]*\] hello from the package$' "$work/console"

# --- logrotate: the snippet, pointed at this server's log, renames the file
# and signals the server, which starts a new one.
if command -v logrotate >/dev/null; then
  logrotate -d -s "$work/lr-state-check" "$repo/packaging/uvframe-server.logrotate" \
    >"$work/lr-check.log" 2>&1 || { cat "$work/lr-check.log" >&2; fail "logrotate rejects the snippet"; }
  awk -v dir="$work/log/" -v pid="$server_pid" '
    /postrotate/ { print; print "\t\tkill -HUP " pid; skip = 1; next }
    /endscript/  { skip = 0 }
    !skip        { sub("/var/log/uvframe/", dir); print }' \
    "$repo/packaging/uvframe-server.logrotate" >"$work/logrotate.conf"
  logrotate -f -s "$work/lr-state" "$work/logrotate.conf" >"$work/lr.log" 2>&1 ||
    { cat "$work/lr.log" >&2; fail "logrotate -f failed"; }
  grep -q 'hello from the package' "$work/log/server.log.1" || fail "server.log.1 lacks the first message"
  # The server creates the new file when it handles the SIGHUP.
  for _ in $(seq 100); do
    [[ -e "$work/log/server.log" ]] && break
    sleep 0.1
  done
  [[ -e "$work/log/server.log" ]] || fail "no new server.log after the SIGHUP"
  send_frame "after the rotation"
  wait_for 'after the rotation' "$work/log/server.log"
else
  echo "package_test: SKIP logrotate checks (logrotate not installed; scripts/setup.sh installs it)"
fi

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[[ "$status" -eq 0 ]] || { cat "$work/console" >&2; fail "the server exited $status after SIGTERM"; }

# --- The unit. verify insists that ExecStart's program exists, so it checks a
# copy that starts the extracted one.
if command -v systemd-analyze >/dev/null; then
  mkdir "$work/unit"
  sed "s|/usr/bin/uvframe-server|$root/usr/bin/uvframe-server|" \
    "$root/usr/lib/systemd/system/uvframe-server.service" >"$work/unit/uvframe-server.service"
  (cd "$work/unit" && systemd-analyze verify --man=no uvframe-server.service) >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log" >&2; fail "systemd-analyze verify failed"; }
  if grep -q 'uvframe-server' "$work/verify.log"; then
    cat "$work/verify.log" >&2
    fail "systemd-analyze verify complains about the unit"
  fi
else
  echo "package_test: SKIP systemd-analyze verify (not installed; scripts/setup.sh installs systemd)"
fi
echo "package_test: $(basename "$deb") OK"
