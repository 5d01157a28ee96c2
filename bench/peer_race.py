#!/usr/bin/env python3
"""peer_race: uvframe-server against rsyslog on the same octet-counted bytes.

For every payload size and connection count, one after the other and with the
same uvframe-loadgen traffic (--framing octet-counting, a fixed number of
frames per connection), each peer ingests it and writes every message to a
file with the client's address:
  uvframe         uvframe-server --framing octet-counting --log-file F --no-console
  rsyslog_imptcp  rsyslogd -n with bench/peers/rsyslog-imptcp.conf
  rsyslog_imtcp   rsyslogd -n with bench/peers/rsyslog-imtcp.conf
Each is measured end to end: from the load generator's start (its first byte
is sent after that) to the moment the last line was written (the file's last
growth), because the kernel's socket buffers can hold a great deal after the
senders stop. Figures: lines written per second of that span, completeness
(message lines written / frames the load generator sent), the server's CPU
time per line and its peak RSS. Everything targets 127.0.0.1, every run is
bounded in time, every process started is killed on exit.

Used by scripts/bench.sh (after bench_driver.py); runnable alone:
  bench/peer_race.py --bindir build/bin [--quick] [--frames N] [--peers uvframe,rsyslog_imptcp]
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from bench_driver import free_port, kill_all, on_signal, start, stop, wait_listening  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PEERS = ["uvframe", "rsyslog_imptcp", "rsyslog_imtcp"]
QUIET_S = 2.0  # no growth this long after the load ended: the server is done
MAX_RUN_S = 120.0


def cpu_and_hwm(pid):
    """(CPU seconds, peak RSS in MiB) of a live process, or (None, None)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        hwm = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) / 1024
        return cpu, hwm
    except (OSError, IndexError, ValueError):
        return None, None


def count_message_lines(path):
    """Lines holding a loadgen payload ("conn=<id> seq=<n> ...")."""
    if not os.path.exists(path):
        return 0
    r = subprocess.run(["grep", "-c", "conn=", path], capture_output=True, text=True)
    return int(r.stdout.strip() or 0)


def rsyslogd_binary():
    return shutil.which("rsyslogd") or next(
        (p for p in ("/usr/sbin/rsyslogd", "/sbin/rsyslogd") if os.access(p, os.X_OK)), None)


class Race:
    def __init__(self, args, workdir):
        self.args, self.workdir = args, workdir

    def server_cmd(self, peer, port, out):
        if peer == "uvframe":
            return [os.path.join(self.args.bindir, "uvframe-server"), "--host", "127.0.0.1",
                    "--port", str(port), "--workers", "2", "--stats-interval", "0",
                    "--framing", "octet-counting", "--log-file", out, "--no-console"]
        kind = peer.split("_", 1)[1]
        spool = os.path.join(self.workdir, f"{peer}-spool")
        os.makedirs(spool, exist_ok=True)
        with open(os.path.join(HERE, "peers", f"rsyslog-{kind}.conf")) as f:
            conf = (f.read().replace("@WORKDIR@", spool).replace("@PORT@", str(port))
                    .replace("@OUTPUT@", out))
        conf_path = os.path.join(self.workdir, f"{peer}.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        return [rsyslogd_binary(), "-n", "-f", conf_path, "-i",
                os.path.join(spool, "rsyslogd.pid")]

    def run(self, peer, size, conns):
        tag = f"{peer}-{size}B-{conns}c"
        out = os.path.join(self.workdir, f"{tag}.log")
        port = free_port()
        per_conn = max(1, self.args.frames // conns)
        result = {"peer": peer, "size": size, "connections": conns, "ok": False,
                  "loadavg_1m_before": round(os.getloadavg()[0], 2)}
        if peer != "uvframe" and not rsyslogd_binary():
            result["error"] = "rsyslogd not installed (scripts/setup.sh installs it)"
            return result
        server = start(self.server_cmd(peer, port, out),
                       os.path.join(self.workdir, f"{tag}.server.out"))
        try:
            if not wait_listening(port, server, 15.0):
                result["error"] = "server did not start: " + tail(self.workdir, f"{tag}.server.out")
                return result
            # rsyslog opens its file at the first message; uvframe already has
            # its listening line in it: growth is measured from here.
            cpu0, _ = cpu_and_hwm(server.pid)
            json_path = os.path.join(self.workdir, f"{tag}.json")
            load_cmd = [os.path.join(self.args.bindir, "uvframe-loadgen"), "--host", "127.0.0.1",
                        "--port", str(port), "--connections", str(conns),
                        "--frames-per-connection", str(per_conn), "--size", str(size),
                        "--framing", "octet-counting", "--threads", "2",
                        "--pipeline", str(max(16, 65536 // (size + 6))),
                        "--progress-interval", "0", "--json", json_path,
                        # A slow peer takes long to read what is queued for it.
                        "--drain-timeout", str(int(MAX_RUN_S)), "--connect-timeout", "30"]
            t0 = time.monotonic()
            load = start(load_cmd, os.path.join(self.workdir, f"{tag}.load.out"))
            last_size, last_growth = -1, t0
            while time.monotonic() - t0 < MAX_RUN_S:
                now = time.monotonic()
                size_now = os.path.getsize(out) if os.path.exists(out) else 0
                if size_now != last_size:
                    last_size, last_growth = size_now, now
                if load.poll() is not None and now - last_growth >= QUIET_S:
                    break
                time.sleep(0.02)
            cpu1, hwm = cpu_and_hwm(server.pid)
            load_rc = load.wait(timeout=10) if load.poll() is None else load.returncode
        finally:
            stop(server, 20)
        sent = 0
        try:
            with open(json_path) as f:
                summary = json.load(f)
            sent = summary.get("frames", {}).get("sent", 0)
            if summary.get("errors_total"):
                result["load_errors"] = summary.get("errors")
        except (OSError, ValueError):
            pass
        lines = count_message_lines(out)
        span = max(last_growth - t0, 1e-6)
        result.update({
            "frames_sent": sent, "lines": lines, "span_s": round(span, 3),
            "lines_per_s": lines / span,
            "complete": lines / sent if sent else 0.0,
            "cpu_us_per_line": (cpu1 - cpu0) * 1e6 / lines if lines and cpu1 is not None else None,
            "rss_peak_mb": hwm, "load_rc": load_rc,
        })
        result["ok"] = sent > 0 and lines > 0
        if not result["ok"]:
            result["error"] = "nothing measured: " + tail(self.workdir, f"{tag}.load.out")
        if os.path.exists(out):
            os.unlink(out)
        return result


def tail(workdir, name):
    try:
        with open(os.path.join(workdir, name), errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-3:])
    except OSError:
        return "(no output)"


def fmt(v, spec, missing="-"):
    return missing if v is None else format(v, spec)


def print_table(runs):
    print("\nPeer race: octet-counted frames in, every message to a file with the client's"
          " address; end to end (load start to last line written)")
    print(f"{'size':>5} {'conns':>6}  {'peer':<15} {'lines/s':>10} {'complete':>9} "
          f"{'CPU us/line':>11} {'RSS MiB':>8}  {'uvframe is':>10}")
    for (size, conns) in sorted({(r["size"], r["connections"]) for r in runs}):
        cell = [r for r in runs if (r["size"], r["connections"]) == (size, conns)]
        uv = next((r for r in cell if r["peer"] == "uvframe" and r["ok"]), None)
        for r in cell:
            if not r["ok"]:
                print(f"{size:>5} {conns:>6}  {r['peer']:<15} failed: {r.get('error', '?')}")
                continue
            vs = ""
            if uv and r is not uv:
                vs = f"{uv['lines_per_s'] / r['lines_per_s']:.1f}x"
            print(f"{size:>5} {conns:>6}  {r['peer']:<15} {r['lines_per_s'] / 1e6:>9.2f}M "
                  f"{100 * r['complete']:>8.1f}% {fmt(r['cpu_us_per_line'], '11.2f'):>11} "
                  f"{fmt(r['rss_peak_mb'], '8.1f'):>8}  {vs:>10}"
                  + (f"  load errors: {r['load_errors']}" if r.get("load_errors") else ""))


def goals(runs):
    """The race's goal at 64 B, 100 connections against rsyslog's best run."""
    cell = [r for r in runs if r["size"] == 64 and r["connections"] == 100 and r["ok"]]
    uv = next((r for r in cell if r["peer"] == "uvframe"), None)
    peers = [r for r in cell if r["peer"] != "uvframe"]
    if not uv or not peers:
        return {}
    best = max(peers, key=lambda r: r["lines_per_s"])
    g = {"best_peer": best["peer"], "lines_ratio": uv["lines_per_s"] / best["lines_per_s"],
         "uvframe_complete": uv["complete"]}
    if uv["cpu_us_per_line"] and best["cpu_us_per_line"]:
        g["cpu_ratio"] = uv["cpu_us_per_line"] / best["cpu_us_per_line"]
    print(f"\n64 B, 100 connections: uvframe {g['lines_ratio']:.1f}x {best['peer']}'s lines/s "
          f"(goal >= 10: {'met' if g['lines_ratio'] >= 10 else 'MISSED'}), ", end="")
    if "cpu_ratio" in g:
        print(f"CPU per line {g['cpu_ratio']:.2f}x (goal <= 0.125: "
              f"{'met' if g['cpu_ratio'] <= 0.125 else 'MISSED'}), ", end="")
    print(f"uvframe {100 * uv['complete']:.1f}% complete (goal 100%)")
    return g


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--quick", action="store_true", help="64 B, 100 connections only")
    ap.add_argument("--frames", type=int, default=None,
                    help="frames per run in all (default 4,000,000; 1,000,000 at 512 B)")
    ap.add_argument("--sizes", default="64,512")
    ap.add_argument("--connections", default="100,1000")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--repeat", type=int, default=1, help="keep each peer's fastest of N runs")
    args = ap.parse_args()
    peers = args.peers.split(",")
    unknown = set(peers) - set(PEERS)
    if unknown:
        ap.error(f"unknown peers: {', '.join(sorted(unknown))}")
    cells = [(64, 100)] if args.quick else [
        (int(s), int(c)) for s in args.sizes.split(",") for c in args.connections.split(",")]
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runs = []
    requested = args.frames
    with tempfile.TemporaryDirectory(prefix="uvframe-race-") as work:
        race = Race(args, work)
        try:
            for size, conns in cells:
                # About a second of uvframe's work per run: short windows keep
                # the file under the size past which this kind of machine
                # slows every writer.
                args.frames = requested or (4_000_000 if size <= 64 else 1_000_000)
                for peer in peers:
                    tries = []
                    for _ in range(args.repeat):
                        print(f"race: {peer} size={size} connections={conns} "
                              f"frames={args.frames}", file=sys.stderr, flush=True)
                        tries.append(race.run(peer, size, conns))
                    runs.append(max(tries, key=lambda r: r.get("lines_per_s", 0) if r["ok"] else -1))
        finally:
            kill_all()
    print_table(runs)
    g = goals(runs)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, f"{stamp}-peers.json")
    with open(path, "w") as f:
        json.dump({"date": stamp, "runs": runs, "goals": g, "cpus": os.cpu_count()}, f, indent=1)
    print(f"race: wrote {path}")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
