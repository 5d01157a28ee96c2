#!/usr/bin/env python3
"""Measures uvframe-server's memory per idle connection.

Starts the server (message and connection lines off), records its RSS, opens
N idle loopback connections, waits until the server reports them all in a
stats line, records the RSS again and prints the difference per connection.
Exits non-zero if the figure is above --max-bytes-per-connection.

With --tls the server gets a throwaway certificate (made with the openssl
command line in a temporary folder), each connection does a TLS 1.3
handshake and sends one small frame, and the measurement waits until the
connections have been quiet for two seconds (the server gives a TLS
session's buffers back after one): the figure is an idle TLS peer's cost.
"""
import argparse
import os
import re
import resource
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
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
    ap.add_argument("--tls", action="store_true",
                    help="TLS connections (handshake and one frame each, then idle)")
    args = ap.parse_args()
    tls_dir = tempfile.TemporaryDirectory(prefix="uvframe-rss-tls-") if args.tls else None
    tls_args, client_ctx = [], None
    if args.tls:
        cert = os.path.join(tls_dir.name, "cert.pem")
        key = os.path.join(tls_dir.name, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        tls_args = ["--tls-cert", cert, "--tls-key", key]
        client_ctx = ssl.create_default_context(cafile=cert)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 100
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    if os.path.exists(args.log):
        os.unlink(args.log)
    server = subprocess.Popen(
        [args.server, "--host", "127.0.0.1", "--port", "0", "--log-level", "warn",
         "--workers", str(args.workers), "--stats-interval", "0.5", "--idle-timeout", "0",
         "--no-console", "--log-file", args.log] + tls_args)
    socks = []
    try:
        deadline = time.monotonic() + 20
        port = int(wait_for(args.log, r"listening on 127\.0\.0\.1:(\d+)", deadline, server).group(1))
        # Let the first stats line pass so the baseline includes warmed-up loops.
        wait_for(args.log, r"stats: connections=0", deadline, server)
        before = rss_bytes(server.pid)
        for i in range(args.connections):
            s = socket.create_connection(("127.0.0.1", port))
            if client_ctx is not None:
                s = client_ctx.wrap_socket(s, server_hostname="127.0.0.1")
                s.sendall(struct.pack("<I", 5) + b"hello")
            socks.append(s)
            if (i + 1) % 2000 == 0:
                print(f"  {i + 1} connections open", file=sys.stderr)
        deadline = time.monotonic() + 60
        wait_for(args.log, rf"stats: connections={args.connections},", deadline, server)
        if args.tls:
            time.sleep(2.5)  # quiet for longer than the server's 1 s before it releases buffers
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
        if tls_dir is not None:
            tls_dir.cleanup()


if __name__ == "__main__":
    sys.exit(main())
