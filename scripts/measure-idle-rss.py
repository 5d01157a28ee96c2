#!/usr/bin/env python3
"""Measures uvframe-server's memory per idle connection.

Starts the server (message and connection lines off), records its RSS, opens
N idle loopback connections, waits until the server reports them all in a
stats line, records the RSS again and prints the difference per connection.
Exits non-zero if the figure is above --max-bytes-per-connection.
"""
import argparse
import os
import re
import resource
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def wait_for(path, pattern, deadline, proc):
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                for line in f:
                    m = rx.search(line)
                    if m:
                        return m
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {pattern!r} in {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", default=os.path.join(HERE, "..", "build", "bin", "uvframe-server"))
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-bytes-per-connection", type=float, default=1024.0)
    ap.add_argument("--log", default="/tmp/uvframe-idle-rss.log")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    if os.path.exists(args.log):
        os.unlink(args.log)
    server = subprocess.Popen(
        [args.server, "--host", "127.0.0.1", "--port", "0", "--log-level", "warn",
         "--workers", str(args.workers), "--stats-interval", "0.5", "--idle-timeout", "0",
         "--no-console", "--log-file", args.log])
    socks = []
    try:
        deadline = time.monotonic() + 20
        port = int(wait_for(args.log, r"listening on 127\.0\.0\.1:(\d+)", deadline, server).group(1))
        # Let the first stats line pass so the baseline includes warmed-up loops.
        wait_for(args.log, r"stats: connections=0", deadline, server)
        before = rss_bytes(server.pid)
        for i in range(args.connections):
            s = socket.create_connection(("127.0.0.1", port))
            socks.append(s)
            if (i + 1) % 2000 == 0:
                print(f"  {i + 1} connections open", file=sys.stderr)
        deadline = time.monotonic() + 60
        wait_for(args.log, rf"stats: connections={args.connections},", deadline, server)
        after = rss_bytes(server.pid)
        per = (after - before) / args.connections
        print(f"server RSS: {before / 1024:.0f} KiB idle, {after / 1024:.0f} KiB with "
              f"{args.connections} idle connections -> {per:.0f} bytes per connection "
              f"(bound {args.max_bytes_per_connection:.0f})")
        return 0 if per <= args.max_bytes_per_connection else 1
    finally:
        for s in socks:
            s.close()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
