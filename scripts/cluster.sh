#!/usr/bin/env bash
# The scale-out shape of "Behind a load balancer", for real on one machine,
# then torn down: HAProxy (mode tcp, roundrobin, PROXY v2, health checks with
# check-send-proxy) in front of three uvframe-servers in proxy mode, two
# uvframe-loadgen runs at once against HAProxy, and Prometheus scraping the
# servers' /metrics every second. Each program runs in its own network
# namespace ("host"), joined by a bridge that lives in a hub namespace of its
# own; addresses come from 198.18.0.0/24 (benchmarking range):
#
#   198.18.0.1   haproxy :9000 (stats :8404)   198.18.0.21  loadgen 1
#   198.18.0.11  server 1 :9000, metrics :9100 198.18.0.22  loadgen 2
#   198.18.0.12  server 2                      198.18.0.31  prometheus :9090
#   198.18.0.13  server 3
#
# After the loads the servers are stopped gracefully (SIGTERM) and the script
# prints (a) the merged load generator result (uvframe-loadgen merge),
# (b) the frames each server received, from Prometheus's query API
# (uvframe_frames_received_total), (c) scripts/check-log.py over the three
# server logs and both runs: every frame of every (client, connection) stream
# logged exactly once, in order, across the servers. Through HAProxy each
# server logs the load generator's real address (198.18.0.21:port).
#
#   scripts/cluster.sh [--connections N] [--frames K] [--size BYTES]
#                      [--no-netns] [--keep] [--bin-dir DIR] [--timeout S]
#   scripts/cluster.sh --clean       remove what killed runs left behind
#
#   --connections N  connections per load generator (default 200)
#   --frames K       frames per connection (default 100)
#   --size BYTES     payload bytes per frame (default 64)
#   --no-netns       do not use network namespaces (also the fallback when
#                    they cannot be made: not root, or `ip netns add` fails):
#                    the same processes on 127.0.0.x in this namespace, on
#                    free ports
#   --keep           keep the temporary directory (logs, configs, JSON)
#   --bin-dir DIR    where uvframe-server and uvframe-loadgen are
#                    (default build/bin)
#   --timeout S      give up (and clean up) after S seconds (default 180)
#
# Needs root (for namespaces), haproxy, prometheus, curl; Python 3 (standard
# library only; Debian's /usr/bin/python3 is preferred). Takes about ten
# seconds with the defaults, most of it waiting for Prometheus's first
# scrapes. Everything it makes is named uvfc-<pid>-… (the namespaces) or
# lives in one mktemp directory, and is removed on any exit.
# Exit status: 0 when every frame sent was logged exactly once and in order,
# 1 otherwise (or when something could not start), 2 on bad arguments.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
me=cluster.sh
connections=200
frames=100
size=64
use_netns=1
keep=0
bin_dir="$repo/build/bin"
timeout_s=180
clean=0

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die_usage() { echo "$me: $*" >&2; exit 2; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die_usage "$1 needs a value"; }
while (($#)); do
  case "$1" in
    --connections) need_value "$@"; connections="$2"; shift 2 ;;
    --frames | --frames-per-connection) need_value "$@"; frames="$2"; shift 2 ;;
    --size) need_value "$@"; size="$2"; shift 2 ;;
    --no-netns) use_netns=0; shift ;;
    --keep) keep=1; shift ;;
    --bin-dir) need_value "$@"; bin_dir="$2"; shift 2 ;;
    --timeout) need_value "$@"; timeout_s="$2"; shift 2 ;;
    --clean) clean=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die_usage "unknown option '$1' (see --help)" ;;
  esac
done
for v in connections frames size timeout_s; do
  [[ "${!v}" =~ ^[0-9]+$ && "${!v}" -gt 0 ]] || die_usage "--${v%_s} must be a positive integer, not '${!v}'"
done

# Python: only the standard library is needed, but prefer Debian's interpreter
# so a pyenv or venv python3 first on PATH does not matter.
py=/usr/bin/python3
[[ -x "$py" ]] || py="$(command -v python3 || true)"
[[ -n "$py" ]] || { echo "$me: python3 not found" >&2; exit 1; }

# --clean: namespaces uvfc-<pid>-* of runs whose script is gone (killed with
# SIGKILL, so their trap never ran), with whatever still runs inside them.
stale_namespaces() {
  ip netns list 2>/dev/null | awk '{ print $1 }' | while read -r ns; do
    [[ "$ns" =~ ^uvfc-([0-9]+)- ]] || continue
    kill -0 "${BASH_REMATCH[1]}" 2>/dev/null || echo "$ns"
  done
}
if ((clean)); then
  n=0
  for ns in $(stale_namespaces); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" && echo "$me: removed namespace $ns" && n=$((n + 1))
  done
  echo "$me: removed $n stale namespace(s)"
  exit 0
fi

server="$bin_dir/uvframe-server"
loadgen="$bin_dir/uvframe-loadgen"
for p in "$server" "$loadgen"; do
  [[ -x "$p" ]] || { echo "$me: $p not found: build first (scripts/run.sh, or cmake --build build) or pass --bin-dir" >&2; exit 1; }
done
for tool in haproxy prometheus curl; do
  command -v "$tool" >/dev/null || { echo "$me: $tool not found (apt-get install $tool)" >&2; exit 1; }
done
# What this build of the server offers: its --help, or (should the help text
# be cut short) the option names compiled into it.
server_help="$("$server" --help 2>&1 | tr -d '\000' || true)"
server_knows() { grep -qF -- "$1" <<<"$server_help" || LC_ALL=C grep -qaF -- "$1" "$server"; }
for opt in --proxy-protocol --trusted-proxies; do
  server_knows "$opt" ||
    { echo "$me: this uvframe-server has no $opt option (PROXY protocol support), nothing to balance" >&2; exit 1; }
done
have_metrics=0
server_knows --metrics && have_metrics=1
have_merge=0
"$loadgen" merge --help >/dev/null 2>&1 && have_merge=1

# Descriptors: 2 x N client connections through HAProxy (twice that for it).
want_fds=$((4 * connections + 1024))
((want_fds < 65536)) && want_fds=65536
ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# HAProxy needs two descriptors per connection (client and server side).
hap_maxconn=$((4 * connections + 1000))
fds="$(ulimit -n)"
[[ "$fds" =~ ^[0-9]+$ ]] && ((hap_maxconn > (fds - 200) / 2)) && hap_maxconn=$(((fds - 200) / 2))

prefix="uvfc-$$"
# The script's own stdout and stderr, also for messages written from where
# a command's output is redirected (a failing readiness check, the cleanup).
exec 3>&1 4>&2
work="$(mktemp -d /tmp/uvfc-XXXXXX)"
pids=()       # every long-running process started, by id
namespaces=() # every namespace created
watchdog=""

cleanup() {
  local rc=$? p ns i
  trap - EXIT
  # Neither a second signal, the watchdog, nor a reader that went away may cut
  # the cleanup short (it takes a few seconds at most).
  trap '' INT TERM HUP USR1 PIPE
  set +e
  [[ -n "$watchdog" ]] && kill -TERM "$watchdog" 2>/dev/null
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  for ((i = ${#namespaces[@]} - 1; i >= 0; i--)); do
    ns="${namespaces[i]}"
    # Nothing should run in there any more; if something does, it is ours.
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null || echo "$me: could not delete namespace $ns" >&4
  done
  if ((keep)); then
    echo "$me: kept $work" >&3
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
trap 'echo "$me: still running after ${timeout_s}s (--timeout), giving up" >&2; exit 1' USR1

# The whole run is bounded: past --timeout the watchdog stops the script,
# whose trap then removes everything.
(
  trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
  sleep "$timeout_s" &
  sleeper=$!
  wait "$sleeper"
  kill -USR1 $$
) &
watchdog=$!

log() { printf '%s %s\n' "[$me]" "$*" >&3; }
fail() {
  echo "$me: $*" >&4
  ((keep)) || echo "$me: (--keep keeps the logs and configs for a look)" >&4
  exit 1
}

# ---------------------------------------------------------------- network --
hosts=(hap s1 s2 s3 lg1 lg2 prom)
declare -A addr
netns_setup() {
  ip netns add "$prefix-hub" 2>"$work/netns.err" || return 1
  namespaces+=("$prefix-hub")
  ip -n "$prefix-hub" link set lo up
  ip -n "$prefix-hub" link add br0 type bridge
  ip -n "$prefix-hub" link set br0 up
  local h
  for h in "${hosts[@]}"; do
    ip netns add "$prefix-$h"
    namespaces+=("$prefix-$h")
    # The veth pair is made inside the hub: one end is the bridge port, the
    # other moves straight into the host's namespace as eth0. Nothing ever
    # appears in the root namespace.
    ip -n "$prefix-hub" link add "v-$h" type veth peer name eth0 netns "$prefix-$h"
    ip -n "$prefix-hub" link set "v-$h" master br0 up
    ip -n "$prefix-$h" link set lo up
    ip -n "$prefix-$h" addr add "${addr[$h]}/24" dev eth0
    ip -n "$prefix-$h" link set eth0 up
  done
}

if ((use_netns)); then
  addr=([hap]=198.18.0.1 [s1]=198.18.0.11 [s2]=198.18.0.12 [s3]=198.18.0.13
    [lg1]=198.18.0.21 [lg2]=198.18.0.22 [prom]=198.18.0.31)
  if [[ "$(id -u)" != 0 ]]; then
    log "NOTE: not root, so no network namespaces: falling back to 127.0.0.x in this namespace"
    use_netns=0
  elif ! netns_setup; then
    log "NOTE: cannot create network namespaces ($(head -c 200 "$work/netns.err")):" \
      "falling back to 127.0.0.x in this namespace"
    use_netns=0
  fi
fi
if ((use_netns)); then
  front_port=9000 srv_port=9000 met_port=9100 prom_port=9090 stats_port=8404
  log "network: namespaces ${prefix}-{hub,${hosts[*]}} (bridge br0 in ${prefix}-hub), 198.18.0.0/24"
else
  addr=([hap]=127.0.0.1 [s1]=127.0.0.11 [s2]=127.0.0.12 [s3]=127.0.0.13
    [lg1]=127.0.0.21 [lg2]=127.0.0.22 [prom]=127.0.0.31)
  # Other programs use this namespace too: take five consecutive ports below
  # the ephemeral range (so no outgoing connection grabs one meanwhile) that
  # are free on every address that needs them.
  read -r front_port srv_port met_port prom_port stats_port < <("$py" - "${addr[@]}" <<'PY'
import random, socket, sys
addrs = sys.argv[1:]
low = 20000
try:
    low = min(low, int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0]))
except (OSError, ValueError):
    pass
for _ in range(200):
    base = random.randrange(10000, low - 5)
    socks = []
    try:
        for port in range(base, base + 5):
            for a in addrs:
                s = socket.socket()
                socks.append(s)
                s.bind((a, port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(*range(base, base + 5))
    break
PY
)
  [[ -n "$front_port" ]] || fail "found no five free ports on 127.0.0.x"
  log "network: root namespace, loopback 127.0.0.x, ports $front_port (haproxy), $srv_port (servers)," \
    "$met_port (metrics), $prom_port (prometheus)"
fi

# on HOST CMD…: runs CMD on that "host" (its namespace, or here).
on() {
  local h="$1"
  shift
  if ((use_netns)); then ip netns exec "$prefix-$h" "$@"; else "$@"; fi
}
# spawn HOST CMD… &: starts CMD on that "host" in the background, so that $!
# is CMD's own process id (the subshell execs ip, which execs CMD), which the
# script signals and waits for.
spawn() {
  local h="$1"
  shift
  exec 3>&- 4>&-
  if ((use_netns)); then exec ip netns exec "$prefix-$h" "$@"; else exec "$@"; fi
}
# http HOST URL: a GET from HOST's namespace, body on stdout.
http() { on "$1" curl -fsS --max-time 2 "$2"; }

# wait_for SECONDS WHAT CMD…: polls CMD until it succeeds.
wait_for() {
  local secs="$1" what="$2" i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "$what not ready after ${secs}s"
}

# ---------------------------------------------------------------- servers --
servers=(s1 s2 s3)
declare -A server_pid
for i in 1 2 3; do
  h="s$i"
  args=(--host "${addr[$h]}" --port "$srv_port" --workers 1
    --proxy-protocol v2 --trusted-proxies "${addr[hap]}/32"
    --log-file "$work/server-$i.log" --no-console --stats-interval 0)
  ((have_metrics)) && args+=(--metrics "${addr[$h]}:$met_port")
  spawn "$h" "$server" "${args[@]}" >"$work/server-$i.out" 2>&1 &
  pids+=($!)
  server_pid[$h]=$!
done
server_listening() { # $1: 1..3; fails the script at once if that server exited
  kill -0 "${server_pid[s$1]}" 2>/dev/null ||
    fail "uvframe-server $1 exited: $(tail -n 3 "$work/server-$1.out" "$work/server-$1.log" 2>/dev/null)"
  grep -q "listening on" "$work/server-$1.log" 2>/dev/null
}
for i in 1 2 3; do
  wait_for 10 "uvframe-server $i (see $work/server-$i.out)" server_listening "$i"
  if ((have_metrics)); then
    wait_for 10 "server $i's /healthz" http hap "http://${addr[s$i]}:$met_port/healthz"
  fi
done
log "servers: ${addr[s1]}, ${addr[s2]}, ${addr[s3]} port $srv_port (--proxy-protocol v2" \
  "--trusted-proxies ${addr[hap]}/32 --workers 1$( ((have_metrics)) && echo ", metrics :$met_port"))"
((have_metrics)) || log "NOTE: this uvframe-server has no --metrics: no Prometheus part"

# ---------------------------------------------------------------- haproxy --
cat >"$work/haproxy.cfg" <<EOF
global
    maxconn $hap_maxconn

defaults
    mode tcp
    timeout connect 5s
    timeout client  60s
    timeout server  60s

frontend logs
    bind ${addr[hap]}:$front_port
    default_backend uvframe

backend uvframe
    balance roundrobin
    source ${addr[hap]}
    server s1 ${addr[s1]}:$srv_port send-proxy-v2 check check-send-proxy inter 1s
    server s2 ${addr[s2]}:$srv_port send-proxy-v2 check check-send-proxy inter 1s
    server s3 ${addr[s3]}:$srv_port send-proxy-v2 check check-send-proxy inter 1s

frontend stats
    mode http
    timeout client 10s
    bind ${addr[hap]}:$stats_port
    stats enable
    stats uri /stats
EOF
haproxy -c -q -f "$work/haproxy.cfg" >"$work/haproxy.check" 2>&1 ||
  fail "haproxy rejects its configuration: $(cat "$work/haproxy.check")"
spawn hap haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.out" 2>&1 &
pids+=($!)
haproxy_up() { # every backend server UP (health checked with a LOCAL header)
  [[ "$(http hap "http://${addr[hap]}:$stats_port/stats;csv" |
    awk -F, '$1 == "uvframe" && $2 ~ /^s[123]$/ && $18 == "UP"' | wc -l)" == 3 ]]
}
wait_for 15 "haproxy with three servers UP (see $work/haproxy.out)" haproxy_up
log "haproxy: ${addr[hap]}:$front_port, roundrobin over 3 servers, send-proxy-v2, all UP"

# ------------------------------------------------------------- prometheus --
if ((have_metrics)); then
  cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: uvframe
    static_configs:
      - targets: ['${addr[s1]}:$met_port', '${addr[s2]}:$met_port', '${addr[s3]}:$met_port']
EOF
  spawn prom prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="${addr[prom]}:$prom_port" --log.level=warn >"$work/prometheus.out" 2>&1 &
  pids+=($!)
  prom="http://${addr[prom]}:$prom_port"
  # promql EXPR: the query API's JSON for an instant query.
  promql() { on prom curl -fsS --max-time 3 -G "$prom/api/v1/query" --data-urlencode "query=$1"; }
  # promval EXPR: the value of a one-series result (empty when none).
  promval() {
    promql "$1" | "$py" -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if len(r) == 1 else "")'
  }
  targets_up() { [[ "$(promval 'sum(up{job="uvframe"})')" == 3 ]]; }
  wait_for 30 "prometheus (see $work/prometheus.out)" http prom "$prom/-/ready"
  wait_for 15 "prometheus scraping all three servers" targets_up
  log "prometheus: $prom, scraping the three /metrics every 1s"
fi

# ------------------------------------------------------------------ loads --
log "load: 2 x uvframe-loadgen --connections $connections --frames-per-connection $frames --size $size," \
  "from ${addr[lg1]} and ${addr[lg2]} to ${addr[hap]}:$front_port at once"
declare -A lg_pid
for i in 1 2; do
  h="lg$i"
  args=(--host "${addr[hap]}" --port "$front_port" --connections "$connections"
    --frames-per-connection "$frames" --size "$size" --threads 1 --progress-interval 0
    --json "$work/lg-$i.json")
  ((use_netns)) || args+=(--source-address "${addr[$h]}")
  # Bounded in count (frames) and in time (timeout).
  spawn "$h" timeout -k 5 "$timeout_s" "$loadgen" "${args[@]}" >"$work/lg-$i.out" 2>&1 &
  pids+=($!)
  lg_pid[$h]=$!
done
load_start=$EPOCHREALTIME
lg_failed=0
for i in 1 2; do
  rc=0
  wait "${lg_pid[lg$i]}" || rc=$?
  if ((rc != 0)); then
    lg_failed=1
    log "loadgen $i exited with status $rc$( ((rc == 124)) && echo " (timed out)"):"
    tail -n 15 "$work/lg-$i.out" | sed 's/^/    /'
  fi
done
[[ -s "$work/lg-1.json" && -s "$work/lg-2.json" ]] || fail "a load generator wrote no --json summary"
sent_total="$("$py" -c 'import json,sys
print(sum(int(json.load(open(p))["frames"]["sent"]) for p in sys.argv[1:]))' "$work/lg-1.json" "$work/lg-2.json")"
log "loads done in $("$py" -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f}")' \
  "$load_start" "$EPOCHREALTIME") s, $sent_total frames sent"

# Frames per server, as Prometheus saw them, taken while the servers still
# run (once they stop, their series go stale): wait until the scrapes add
# up to what was sent (frames still in flight through HAProxy arrive late).
if ((have_metrics)); then
  prom_total=""
  for ((i = 0; i < 100; i++)); do
    prom_total="$(promval 'sum(uvframe_frames_received_total)' 2>/dev/null || true)"
    [[ "$prom_total" == "$sent_total" ]] && break
    sleep 0.1
  done
  promql 'uvframe_frames_received_total' >"$work/prom-frames.json" || true
fi

# ------------------------------------------------------- graceful stop -----
for h in "${servers[@]}"; do kill -TERM "${server_pid[$h]}"; done
for i in 1 2 3; do
  rc=0
  # SIGTERM: drain within --drain-timeout (10 s) plus a second
  timeout 15 tail --pid="${server_pid[s$i]}" -f /dev/null || true
  if kill -0 "${server_pid[s$i]}" 2>/dev/null; then
    log "server $i still running 15 s after SIGTERM"
    lg_failed=1
  else
    wait "${server_pid[s$i]}" || rc=$?
    ((rc == 0)) || { log "server $i exited with status $rc"; lg_failed=1; }
  fi
  grep -q "stats: .*final=true" "$work/server-$i.log" ||
    { log "server $i wrote no final stats line"; lg_failed=1; }
done
((lg_failed)) || log "servers stopped gracefully (SIGTERM: drained, final stats line, status 0)"

# ---------------------------------------------------------------- report ---
echo
echo "== (a) load generators, merged"
if ((have_merge)); then
  "$loadgen" merge "$work/lg-1.json" "$work/lg-2.json" --json "$work/merged.json" || true
else
  echo "(this uvframe-loadgen has no 'merge' subcommand yet: the two summaries one after the other)"
  for i in 1 2; do
    echo "-- loadgen $i (${addr[lg$i]})"
    grep -v '^\[' "$work/lg-$i.out" || cat "$work/lg-$i.out"
  done
fi
summary_json="$work/merged.json"
[[ -s "$summary_json" ]] || summary_json=""
"$py" - "$work/lg-1.json" "$work/lg-2.json" ${summary_json:+"$summary_json"} <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:3]]
for i, r in enumerate(runs, 1):
    print(f"  loadgen {i}: {r['frames']['sent']} frames in {r['duration_s']:.2f} s = "
          f"{r['frames_per_s']:,.0f} frames/s, {r['connections']['opened']} connections "
          f"({r['connections']['failed']} failed)")
if len(sys.argv) > 3:
    m = json.load(open(sys.argv[3]))
    print(f"  merged: {m['frames']['sent']} frames, {m['frames_per_s']:,.0f} frames/s, "
          f"{m.get('mb_per_s', 0):.1f} MB/s")
PY

# What the load generators measure is how fast HAProxy took their frames;
# the servers' side is the time from the first to the last logged message.
"$py" - "$work"/server-{1,2,3}.log <<'PY'
import datetime, re, sys
stamp = re.compile(rb"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\] \[[a-z]+\] \[tcp/")
first = last = None
count = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        for line in f:
            m = stamp.match(line)
            if m:
                count += 1
                t = m.group(1)
                first = t if first is None or t < first else first
                last = t if last is None or t > last else last
if count:
    parse = lambda t: datetime.datetime.strptime(t.decode(), "%Y-%m-%d %H:%M:%S.%f")
    span = (parse(last) - parse(first)).total_seconds()
    rate = f" = {count / span:,.0f} frames/s" if span > 0 else ""
    print(f"  servers: {count} messages logged in {span:.3f} s (first to last, 3 logs){rate}")
PY

if ((have_metrics)); then
  echo
  echo "== (b) frames per server, from Prometheus (uvframe_frames_received_total)"
  "$py" - "$work/prom-frames.json" "$sent_total" "${addr[s1]}" "${addr[s2]}" "${addr[s3]}" <<'PY'
import json, sys
path, sent, hosts = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
try:
    result = json.load(open(path))["data"]["result"]
except (OSError, ValueError, KeyError) as e:
    print(f"  no answer from Prometheus ({e})")
    sys.exit(0)
by_host = {r["metric"].get("instance", "?").rsplit(":", 1)[0]: float(r["value"][1]) for r in result}
total = sum(by_host.values())
for i, h in enumerate(hosts, 1):
    v = by_host.get(h)
    share = f"{100 * v / total:5.1f} %" if v is not None and total else ""
    print(f"  server {i} ({h}): {'-' if v is None else f'{v:,.0f}':>10} frames  {share}")
print(f"  sum: {total:,.0f} of {sent:,} sent" + ("" if total == sent else "  (scrapes lag or frames lost)"))
PY
fi

echo
echo "== (c) completeness over the three server logs"
check_rc=0
"$py" "$repo/scripts/check-log.py" "$work"/server-{1,2,3}.log --json "$work/lg-1.json" --json "$work/lg-2.json" ||
  check_rc=$?
echo
if ((check_rc != 0)); then
  log "FAILED: the logs do not hold every frame sent exactly once (check-log status $check_rc)" \
    "$( ((keep)) || echo "; run with --keep to look at them")"
  exit 1
fi
if ((lg_failed)); then
  log "FAILED: a load generator or a server did not exit cleanly (see above)"
  exit 1
fi
log "OK: $sent_total frames from 2 load generators, through HAProxy, logged exactly once, in order, over 3 servers"
