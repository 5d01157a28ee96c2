#!/usr/bin/env python3
"""Soak test of uvframe-server: load for a given time while watching for leaks.

Starts the server (loopback, port 0, every message logged to the console,
which this script reads and discards), records its idle RSS and descriptor
count, then drives it for --minutes with uvframe-loadgen (or, when that is not
built, a small bounded Python load loop) plus a trickle of connection churn
that goes through the error paths (peers that close mid-frame, send an
oversized length, or reset). Every --interval seconds it samples the server's
RSS (/proc/PID/status) and open descriptors (/proc/PID/fd).

It fails (exit 1) when
  * RSS in the last third of the run exceeds RSS in the first third (after a
    warm-up) by more than --max-rss-growth-mib,
  * once the load has stopped and its connections are gone, the descriptor
    count is more than --max-fd-growth above the idle count before the load,
  * the server dies, or does not exit 0 on SIGTERM.
It prints a table of the samples, writes them as CSV and, when matplotlib is
available, a PNG of RSS and descriptors over time.
"""
import argparse
import csv
import os
import random
import re
import resource
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

import debian_python  # scripts/debian_python.py: Debian's matplotlib from any python3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class ServerOutput(threading.Thread):
    """Reads the server's console, keeps counts and the last stats line."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines = 0
        self.port = None
        self.last_stats = ""
        self.problems = []  # warnings other than the expected ones
        self.listening = threading.Event()

    def run(self):
        for raw in self.stream:
            self.lines += 1
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.port is None:
                m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    self.listening.set()
            if "[tcp server] stats: " in line:
                self.last_stats = line
            if "[error]" in line or "[critical]" in line:
                self.problems.append(line)


def stat_value(stats_line, key):
    m = re.search(rf"\b{key}=([\d.]+)", stats_line)
    return float(m.group(1)) if m else None


def python_load(port, connections, size, rate, stop):
    """Fallback load: connections sockets, frames of size bytes, rate per second in total."""
    socks = []
    for _ in range(connections):
        socks.append(socket.create_connection(("127.0.0.1", port)))
    seq = 0
    period = 1.0 / rate
    next_at = time.monotonic()
    try:
        while not stop.is_set():
            s = socks[seq % len(socks)]
            body = (f"conn={seq % len(socks)} seq={seq // len(socks)} ".encode() + b"x" * size)[:size]
            s.sendall(struct.pack("<I", len(body)) + body)
            seq += 1
            next_at += period
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -1.0:
                next_at = time.monotonic()  # fell behind: do not burst to catch up
    finally:
        for s in socks:
            s.close()
    return seq


def churn(port, stop, counts):
    """A few short-lived connections a second, many through the error paths."""
    rng = random.Random(1125)
    while not stop.wait(0.05):
        kind = rng.randrange(5)
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if kind == 0:  # a good frame, then a clean close
                s.sendall(struct.pack("<I", 5) + b"churn")
            elif kind == 1:  # half a frame, then gone
                s.sendall(struct.pack("<I", 100) + b"partial")
            elif kind == 2:  # an oversized length: the server closes us
                s.sendall(struct.pack("<I", 0xFFFFFFF0) + b"junk")
                s.settimeout(5)
                try:
                    s.recv(1)
                except OSError:
                    pass
            elif kind == 3:  # reset instead of FIN
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:  # connect and leave at once
                pass
            s.close()
            counts[kind] += 1
        except OSError:
            counts["errors"] += 1


def plot(samples, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    t = [s["t"] for s in samples]
    fig, (a, b) = plt.subplots(2, 1, sharex=True, figsize=(8, 5))
    a.plot(t, [s["rss_kib"] / 1024 for s in samples], marker=".")
    a.set_ylabel("RSS (MiB)")
    a.set_title("uvframe-server soak")
    b.plot(t, [s["fds"] for s in samples], marker=".", color="tab:orange")
    b.set_ylabel("open descriptors")
    b.set_xlabel("seconds")
    for ax in (a, b):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main():
    # Before any work: a hop to Debian's python3 (for the chart) restarts the script.
    debian_python.require("matplotlib")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("minutes", type=float, help="minutes of load")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--connections", type=int, default=500)
    ap.add_argument("--size", default="16-512", help="payload bytes, N or MIN-MAX (loadgen syntax)")
    ap.add_argument("--rate", type=float, default=20000, help="frames per second in total")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--max-rss-growth-mib", type=float, default=16.0)
    ap.add_argument("--max-fd-growth", type=int, default=4)
    ap.add_argument("--python-load", action="store_true", help="use the Python load loop even if uvframe-loadgen exists")
    ap.add_argument("--out", default=f"/tmp/uvframe-soak-{time.strftime('%Y%m%dT%H%M%S')}")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server_bin = os.path.join(args.bin_dir, "uvframe-server")
    loadgen_bin = os.path.join(args.bin_dir, "uvframe-loadgen")
    use_loadgen = os.access(loadgen_bin, os.X_OK) and not args.python_load
    duration = max(1, int(args.minutes * 60))

    server = subprocess.Popen(
        [server_bin, "--host", "127.0.0.1", "--port", "0", "--workers", str(args.workers),
         "--stats-interval", str(args.interval), "--frame-timeout", "5", "--max-logged-bytes", "64"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = ServerOutput(server.stdout)
    out.start()
    if not out.listening.wait(20):
        print("soak: the server did not start", file=sys.stderr)
        server.kill()
        return 1
    pid = server.pid
    print(f"soak: server pid {pid} on 127.0.0.1:{out.port}; {args.minutes:g} min of load with "
          f"{'uvframe-loadgen' if use_loadgen else 'the Python load loop'}; samples in {args.out}")

    samples = []
    start = time.monotonic()

    def sample(phase):
        s = {"t": round(time.monotonic() - start, 1), "phase": phase, "rss_kib": rss_kib(pid),
             "fds": fd_count(pid), "log_lines": out.lines,
             "connections": stat_value(out.last_stats, "connections"),
             "frames": stat_value(out.last_stats, "frames")}
        samples.append(s)
        print(f"{s['t']:8.1f}  {phase:6}  {s['rss_kib'] / 1024:9.1f}  {s['fds']:6}  "
              f"{s['log_lines']:12}  {s['connections'] if s['connections'] is not None else '-':>8}")
        return s

    print(f"{'t (s)':>8}  {'phase':6}  {'RSS (MiB)':>9}  {'fds':>6}  {'log lines':>12}  {'conns':>8}")
    for _ in range(3):
        sample("idle")
        time.sleep(1)
    idle_fds = samples[-1]["fds"]

    stop = threading.Event()
    churn_counts = {0: 0, 1: 0, 2: 0, 3: 0, 4: 0, "errors": 0}
    churner = threading.Thread(target=churn, args=(out.port, stop, churn_counts), daemon=True)
    churner.start()
    if use_loadgen:
        load = subprocess.Popen(
            [loadgen_bin, "--host", "127.0.0.1", "--port", str(out.port), "--connections", str(args.connections),
             "--duration", str(duration), "--size", args.size, "--rate", str(args.rate),
             "--json", os.path.join(args.out, "loadgen.json")],
            stdout=open(os.path.join(args.out, "loadgen.out"), "w"), stderr=subprocess.STDOUT)
        load_done = lambda: load.poll() is not None
    else:
        size = int(args.size.split("-")[-1])
        result = {}
        loader = threading.Thread(
            target=lambda: result.setdefault("frames", python_load(out.port, args.connections, size, args.rate, stop)),
            daemon=True)
        loader.start()
        load_done = lambda: not loader.is_alive()

    load_end = time.monotonic() + duration
    failed = []
    while time.monotonic() < load_end and not load_done():
        time.sleep(min(args.interval, max(0.1, load_end - time.monotonic())))
        if server.poll() is not None:
            failed.append(f"the server exited with status {server.returncode} during the load")
            break
        sample("load")
    stop.set()
    churner.join(10)
    if use_loadgen:
        try:
            load.wait(60)
        except subprocess.TimeoutExpired:
            load.kill()
            failed.append("uvframe-loadgen did not finish")
    else:
        loader.join(30)

    # Connections close; the descriptors must come back to the idle count.
    after = None
    deadline = time.monotonic() + 30
    while server.poll() is None and time.monotonic() < deadline and fd_count(pid) > idle_fds + args.max_fd_growth:
        time.sleep(0.5)
    if server.poll() is None:
        time.sleep(args.interval)  # one more stats line, for the table
        after = sample("after")

    load_samples = [s for s in samples if s["phase"] == "load"]
    if server.poll() is None and len(load_samples) >= 6:
        third = len(load_samples) // 3
        warm = load_samples[1:third + 1]  # the first sample is still ramping up
        early = statistics.median(s["rss_kib"] for s in warm)
        late = statistics.median(s["rss_kib"] for s in load_samples[-third:])
        growth_mib = (late - early) / 1024
        print(f"soak: RSS median {early / 1024:.1f} MiB early, {late / 1024:.1f} MiB late: "
              f"growth {growth_mib:+.1f} MiB (bound {args.max_rss_growth_mib:g})")
        if growth_mib > args.max_rss_growth_mib:
            failed.append(f"RSS grew by {growth_mib:.1f} MiB")
    elif server.poll() is None:
        print("soak: too few samples for a growth verdict (run longer or lower --interval)")
    if after is not None:
        fd_growth = after["fds"] - idle_fds
        print(f"soak: descriptors {idle_fds} idle before, {after['fds']} after the load: {fd_growth:+d} "
              f"(bound {args.max_fd_growth})")
        if fd_growth > args.max_fd_growth:
            failed.append(f"{fd_growth} descriptors leaked")
    print(f"soak: churn connections by kind (good, partial, oversized, reset, empty): "
          f"{[churn_counts[k] for k in range(5)]}, connect errors {churn_counts['errors']}")

    server.send_signal(signal.SIGTERM)
    try:
        rc = server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        rc = None
    out.join(5)
    print(f"soak: server exit status {rc}; {out.lines} log lines; last: {out.last_stats[-200:]}")
    if rc != 0:
        failed.append(f"server exit status {rc} on SIGTERM")
    if out.problems:
        failed.append(f"{len(out.problems)} error lines, first: {out.problems[0]}")

    with open(os.path.join(args.out, "samples.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(samples[0].keys()))
        w.writeheader()
        w.writerows(samples)
    if plot(samples, os.path.join(args.out, "rss.png")):
        print(f"soak: plot in {os.path.join(args.out, 'rss.png')}")
    if failed:
        print("soak: FAILED: " + "; ".join(failed))
        return 1
    print("soak: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
