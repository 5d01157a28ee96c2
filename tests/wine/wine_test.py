#!/usr/bin/env python3
"""wine_test.py: the Windows programs (scripts/build-windows.sh) under Wine,
against the real Linux programs and against raw sockets.

    wine_test.py --exe-dir build-windows/bin --linux-bin build/bin [-k NAME]

Real binaries, ephemeral ports (--port 0, the port read from the listening
line), every wait a poll with a deadline, never a sleep as synchronisation.
The Wine prefix lives in build-windows/wineprefix (WINEPREFIX) and one
persistent wineserver serves every test, so Wine's start is paid once.
Exit status: 0 all passed, 1 a test failed, 77 Wine is not usable here.
"""

import argparse
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECK_LOG = os.path.join(ROOT, "scripts", "check-log.py")
PREFIX_RE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(\w+)\] (.*)$")
LISTENING_RE = re.compile(r"\[tcp server\] listening on 127\.0\.0\.1:(\d+) ")

ARGS = None
WORK = None


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def wine_env():
    env = dict(os.environ)
    env["WINEPREFIX"] = ARGS.wineprefix
    env["WINEDEBUG"] = "-all"
    env["WINEDLLOVERRIDES"] = "mscoree,mshtml="  # no Mono/Gecko install prompts
    env.pop("DISPLAY", None)  # headless: nothing here needs a window
    return env


def exe(name):
    return os.path.join(ARGS.exe_dir, name + ".exe")


def linux(name):
    return os.path.join(ARGS.linux_bin, name)


class Process:
    """A child whose stdout+stderr lines are collected by a thread."""

    def __init__(self, argv, wine=False, stdin=None):
        self.argv = (["wine"] + argv) if wine else argv
        self.lines = []
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=wine_env() if wine else None)
        if stdin is not None:
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                self.lines.append(line)

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def output(self):
        return "\n".join(self.snapshot())

    def wait_for(self, pattern, timeout=30.0):
        """The first line matching the regex, polled until the deadline."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.snapshot():
                if regex.search(line):
                    return line
            if time.monotonic() > deadline:
                raise Failure(f"no line matching {pattern!r} within {timeout}s in:\n"
                              + self.output()[-4000:])
            if self.proc.poll() is not None:
                self.reader.join(2)
                for line in self.snapshot():
                    if regex.search(line):
                        return line
                raise Failure(f"{self.argv[0:2]} exited {self.proc.returncode} before "
                              f"{pattern!r}:\n" + self.output()[-4000:])
            time.sleep(0.02)

    def wait_exit(self, timeout=60.0):
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"{self.argv[0:2]} did not exit within {timeout}s:\n"
                          + self.output()[-4000:])
        self.reader.join(5)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def poll_file(path, pattern, timeout=30.0):
    regex = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = regex.search(line)
                    if m:
                        return m
        time.sleep(0.05)
    raise Failure(f"no line matching {pattern!r} in {path} within {timeout}s")


class Server:
    """uvframe-server (the .exe under Wine, or the Linux one) on --port 0."""

    def __init__(self, args, wine=True, log_file=None):
        program = exe("uvframe-server") if wine else linux("uvframe-server")
        argv = [program, "--host", "127.0.0.1", "--port", "0"] + list(args)
        if log_file:
            argv += ["--log-file", log_file, "--no-console"]
        self.process = Process(argv, wine=wine)
        if log_file:
            self.port = int(poll_file(log_file, LISTENING_RE.pattern, 60).group(1))
        else:
            self.port = int(LISTENING_RE.search(
                self.process.wait_for(LISTENING_RE.pattern, 60)).group(1))

    def stop(self, sig=signal.SIGINT, timeout=30.0):
        """Signals the server (SIGINT reaches a Windows program under Wine as
        Ctrl+C) and returns its exit status."""
        if self.process.proc.poll() is None:
            self.process.proc.send_signal(sig)
        return self.process.wait_exit(timeout)

    def close(self):
        self.process.kill()


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    return s


def frame(body):
    return struct.pack("<I", len(body)) + body


def body_of(line):
    m = PREFIX_RE.match(line)
    check(m is not None, f"no spdlog prefix: {line}")
    return m.group(1), m.group(2)


def run(argv, timeout=120, wine=False):
    p = Process(argv, wine=wine)
    code = p.wait_exit(timeout)
    return code, p.output()


# ---------------------------------------------------------------------------
# The tests

MESSAGES = ["안녕하세요", "반갑습니다", "classic client", "끝"]


def test_seed_session():
    """The classic CP949 client's session, exactly the spec's lines."""
    server = Server(["--payload-encoding", "cp949", "--workers", "1"])
    try:
        wire = 0
        with connect(server.port) as s:
            port = s.getsockname()[1]
            for m in MESSAGES:
                data = frame(m.encode("cp949"))
                s.sendall(data[:4])  # the classic client: send(len), then send(body)
                s.sendall(data[4:])
                wire += len(data)
        server.process.wait_for(rf"client disconnected: ip=127\.0\.0\.1, port={port}\b")
        mine = []
        for line in server.process.snapshot():
            if f"port={port}" in line or f":{port}]" in line:
                level, body = body_of(line)
                check(level == "info", f"not info: {line}")
                mine.append(body)
        check(len(mine) == 6, "expected 6 lines:\n" + "\n".join(mine))
        check(mine[0] == f"[tcp server] client connected: ip=127.0.0.1, port={port}", mine[0])
        for i, m in enumerate(MESSAGES):
            check(mine[i + 1] == f"[tcp/127.0.0.1:{port}] {m}", mine[i + 1])
        check(re.fullmatch(
            rf"\[tcp server\] client disconnected: ip=127\.0\.0\.1, port={port} "
            rf"\(reason=peer closed, frames=4, bytes={wire}, duration=\d+\.\d{{3}}s\)",
            mine[5]) is not None, mine[5])
        check(server.stop() == 0, "server exit status")
    finally:
        server.close()


def test_charsets_through_windows_code_pages():
    """cp949 through MultiByteToWideChar: bytes it cannot decode are escaped as
    with iconv; auto (no flag) reads CP949 Hangul and UTF-8 alike."""
    for args, sent, expected in [
        (["--payload-encoding", "cp949"], [b"ok \xff\x80 end", "한글".encode("cp949") + b"\xa1"],
         ["ok \\xff\\x80 end", "한글\\xa1"]),
        ([], ["안녕하세요".encode("cp949"), "안녕하세요".encode("utf-8"), b"\xff\xfe\x00bin"],
         ["안녕하세요", "안녕하세요", "\\xff\\xfe\\x00bin"]),
    ]:
        server = Server(args + ["--workers", "1"])
        try:
            with connect(server.port) as s:
                port = s.getsockname()[1]
                s.sendall(b"".join(frame(b) for b in sent))
            server.process.wait_for(rf"client disconnected: ip=127\.0\.0\.1, port={port} ")
            logged = [body_of(l)[1] for l in server.process.snapshot() if f":{port}] " in l]
            check(logged == [f"[tcp/127.0.0.1:{port}] {e}" for e in expected],
                  f"{args}:\n" + "\n".join(logged))
            check(server.stop() == 0, "server exit status")
        finally:
            server.close()


def loadgen_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def test_linux_loadgen_against_windows_server():
    """500 connections x 20 frames: every frame logged once, in order."""
    log = os.path.join(WORK, "wine-server.log")
    run_json = os.path.join(WORK, "linux-loadgen.json")
    server = Server([], log_file=log)
    try:
        code, out = run([linux("uvframe-loadgen"), "--port", str(server.port),
                         "--connections", "500", "--frames-per-connection", "20",
                         "--json", run_json], timeout=180)
        check(code == 0, f"loadgen exit {code}:\n{out[-3000:]}")
        check(server.stop() == 0, "server exit status:\n" + server.process.output()[-2000:])
    finally:
        server.close()
    code, out = run([sys.executable, CHECK_LOG, log, "--json", run_json])
    check(code == 0, f"check-log.py:\n{out[-3000:]}")
    summary = loadgen_json(run_json)
    check(summary["frames"]["sent"] == 10000, f"frames sent {summary['frames']}")


def test_linux_loadgen_echo_against_windows_server():
    """--echo: every frame comes back byte-identical (the loadgen compares)."""
    run_json = os.path.join(WORK, "linux-loadgen-echo.json")
    server = Server(["--echo", "--log-level", "warn"])
    try:
        code, out = run([linux("uvframe-loadgen"), "--port", str(server.port),
                         "--connections", "500", "--frames-per-connection", "20", "--echo",
                         "--size", "1-3000", "--json", run_json], timeout=180)
        check(code == 0, f"loadgen exit {code}:\n{out[-3000:]}")
        summary = loadgen_json(run_json)
        check(summary["frames"]["echoed"] == summary["frames"]["sent"] == 10000,
              f"frames {summary['frames']}")
        check(summary["bytes"]["echoed"] == summary["bytes"]["sent"], f"bytes {summary['bytes']}")
        errors = {k: v for k, v in summary.get("errors", {}).items() if v}
        check(not errors, f"errors {errors}")
        check(server.stop() == 0, "server exit status")
    finally:
        server.close()


def test_windows_client_against_linux_server():
    """uvframe-client.exe: Korean arguments (UTF-8 through the manifest's code
    page) and standard input, converted to CP949, logged exactly."""
    server = Server(["--payload-encoding", "cp949", "--workers", "1"], wine=False)
    try:
        code, out = run([exe("uvframe-client"), "--port", str(server.port),
                         "--encoding", "cp949"] + MESSAGES, wine=True, timeout=60)
        check(code == 0, f"client exit {code}:\n{out}")
        m = re.search(r"connected to 127\.0\.0\.1:\d+ from 127\.0\.0\.1:(\d+)", out)
        check(m is not None, out)
        port = m.group(1)
        check(out.count("[tcp client] sent 4+") == 4, out)
        server.process.wait_for(rf"client disconnected: ip=127\.0\.0\.1, port={port} "
                                r"\(reason=peer closed, frames=4")
        logged = [body_of(l)[1] for l in server.process.snapshot() if f":{port}] " in l]
        check(logged == [f"[tcp/127.0.0.1:{port}] {m}" for m in MESSAGES], "\n".join(logged))

        p = Process([exe("uvframe-client"), "--port", str(server.port), "--encoding", "cp949"],
                    wine=True, stdin="첫째 줄\nsecond line\n".encode("utf-8"))
        check(p.wait_exit(60) == 0, p.output())
        m = re.search(r"from 127\.0\.0\.1:(\d+)", p.output())
        check(m is not None, p.output())
        server.process.wait_for(rf"client disconnected: ip=127\.0\.0\.1, port={m.group(1)} ")
        logged = [body_of(l)[1] for l in server.process.snapshot() if f":{m.group(1)}] " in l]
        check(logged == [f"[tcp/127.0.0.1:{m.group(1)}] 첫째 줄",
                         f"[tcp/127.0.0.1:{m.group(1)}] second line"], "\n".join(logged))
        check(server.stop(signal.SIGTERM) == 0, "server exit status")
    finally:
        server.close()


def test_windows_loadgen_against_linux_server():
    """uvframe-loadgen.exe: 200 connections x 20 frames, every one logged once, in order;
    then an --echo run."""
    log = os.path.join(WORK, "linux-server.log")
    run_json = os.path.join(WORK, "wine-loadgen.json")
    server = Server([], wine=False, log_file=log)
    try:
        code, out = run([exe("uvframe-loadgen"), "--port", str(server.port),
                         "--connections", "200", "--frames-per-connection", "20",
                         "--json", run_json], wine=True, timeout=180)
        check(code == 0, f"loadgen.exe exit {code}:\n{out[-3000:]}")
        check(server.stop(signal.SIGTERM) == 0, "server exit status")
    finally:
        server.close()
    code, out = run([sys.executable, CHECK_LOG, log, "--json", run_json])
    check(code == 0, f"check-log.py:\n{out[-3000:]}")

    echo_json = os.path.join(WORK, "wine-loadgen-echo.json")
    server = Server(["--echo", "--log-level", "warn"], wine=False)
    try:
        code, out = run([exe("uvframe-loadgen"), "--port", str(server.port),
                         "--connections", "100", "--frames-per-connection", "20", "--echo",
                         "--size", "1-3000", "--json", echo_json], wine=True, timeout=180)
        check(code == 0, f"loadgen.exe --echo exit {code}:\n{out[-3000:]}")
        echo = loadgen_json(echo_json)
        check(echo["frames"]["echoed"] == echo["frames"]["sent"] == 2000, f"{echo['frames']}")
        check(server.stop(signal.SIGTERM) == 0, "server exit status")
    finally:
        server.close()


def test_oversized_length():
    """A length above --max-frame: one warning naming the peer and the length,
    that connection closed, everyone else served."""
    server = Server(["--max-frame", "1024", "--workers", "1"])
    try:
        with connect(server.port) as bad:
            port = bad.getsockname()[1]
            bad.sendall(struct.pack("<I", 5000) + b"x" * 10)
            line = server.process.wait_for(r"frame too large")
            check(f"port={port}" in line and "5000" in line, line)
            check("warning" in line, line)
            bad.settimeout(30)
            try:
                check(bad.recv(1) == b"", "connection not closed")
            except ConnectionResetError:
                pass
        server.process.wait_for(rf"client disconnected: ip=127\.0\.0\.1, port={port} "
                                r"\(reason=frame too large")
        with connect(server.port) as good:
            gport = good.getsockname()[1]
            good.sendall(frame(b"still serving"))
        server.process.wait_for(rf"\[tcp/127\.0\.0\.1:{gport}\] still serving$")
        check(server.stop() == 0, "server exit status")
    finally:
        server.close()


def test_peer_stalled_mid_frame():
    """--frame-timeout: a frame started and never finished closes that peer."""
    server = Server(["--frame-timeout", "1", "--workers", "1"])
    try:
        with connect(server.port) as s:
            port = s.getsockname()[1]
            s.sendall(frame(b"complete") + struct.pack("<I", 100) + b"half")
            started = time.monotonic()
            server.process.wait_for(rf"\[tcp/127\.0\.0\.1:{port}\] complete$")
            line = server.process.wait_for(
                rf"client disconnected: ip=127\.0\.0\.1, port={port} \(reason=frame timeout", 20)
            check("frames=1" in line and "unfinished=" in line, line)
            check(time.monotonic() - started >= 0.9, "closed before the timeout")
            check(any("frame timeout" in l and "warning" in l
                      for l in server.process.snapshot()), server.process.output())
        check(server.stop() == 0, "server exit status")
    finally:
        server.close()


def test_ctrl_c_drains():
    """SIGINT to the Wine process arrives as Ctrl+C (CTRL_C_EVENT, libuv's
    SIGINT): frames already sent are logged, connections closed with
    reason=server shutdown, the final stats line is the last, exit 0."""
    server = Server(["--workers", "1"])
    try:
        with connect(server.port) as s:
            port = s.getsockname()[1]
            for i in range(50):
                s.sendall(frame(f"before ctrl-c {i}".encode()))
            server.process.wait_for(rf"\[tcp/127\.0\.0\.1:{port}\] before ctrl-c 49$")
            code = server.stop(signal.SIGINT)
        lines = server.process.snapshot()
        check(code == 0, f"exit status {code}:\n" + "\n".join(lines[-5:]))
        check(any("shutting down on SIGINT" in l for l in lines), "\n".join(lines[-5:]))
        check(any(f"port={port} (reason=server shutdown, frames=50" in l for l in lines),
              "\n".join(lines[-5:]))
        last = body_of(lines[-1])[1]
        check(last.startswith("[tcp server] stats: ") and "final=true" in last
              and "frames=50" in last, last)
    finally:
        server.close()


def test_tls_and_metrics_are_not_in_this_build():
    code, out = run([exe("uvframe-server"), "--tls-cert", "c.pem", "--tls-key", "k.pem"],
                    wine=True)
    check(code == 2 and "TLS is not in this build" in out and len(out.splitlines()) == 1,
          f"{code}: {out}")
    code, out = run([exe("uvframe-server"), "--metrics", "127.0.0.1:0"], wine=True)
    check(code == 2 and "metrics are not in this build" in out and len(out.splitlines()) == 1,
          f"{code}: {out}")
    code, out = run([exe("uvframe-client"), "--tls", "hello"], wine=True)
    check(code != 0 and "TLS is not in this build" in out, f"{code}: {out}")
    code, out = run([exe("uvframe-loadgen"), "--tls", "--connections", "1"], wine=True)
    check(code != 0 and "TLS is not in this build" in out, f"{code}: {out}")


TESTS = [
    test_seed_session,
    test_charsets_through_windows_code_pages,
    test_linux_loadgen_against_windows_server,
    test_linux_loadgen_echo_against_windows_server,
    test_windows_client_against_linux_server,
    test_windows_loadgen_against_linux_server,
    test_oversized_length,
    test_peer_stalled_mid_frame,
    test_ctrl_c_drains,
    test_tls_and_metrics_are_not_in_this_build,
]


def main():
    global ARGS, WORK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe-dir", default=os.path.join(ROOT, "build-windows", "bin"))
    parser.add_argument("--linux-bin", default=os.path.join(ROOT, "build", "bin"))
    parser.add_argument("--wineprefix", default=os.path.join(ROOT, "build-windows", "wineprefix"))
    parser.add_argument("-k", dest="only", help="run the tests whose name contains this")
    ARGS = parser.parse_args()
    for path in [exe(p) for p in ("uvframe-server", "uvframe-client", "uvframe-loadgen")] + \
            [linux("uvframe-server"), linux("uvframe-loadgen")]:
        if not os.path.exists(path):
            print(f"wine_test.py: {path} missing", file=sys.stderr)
            return 1
    # One wineserver for the whole run (the prefix is created on first use).
    started = time.monotonic()
    subprocess.run(["wineserver", "-p"], env=wine_env(), check=False)
    code, out = run([exe("uvframe-server"), "--version"], wine=True, timeout=300)
    if code != 0:
        print(f"SKIP: Wine cannot run uvframe-server.exe here ({code}): {out}")
        return 77
    print(f"wine ready in {time.monotonic() - started:.1f}s: {out.strip()}")
    failed = []
    with tempfile.TemporaryDirectory(prefix="uvframe-wine-") as work:
        WORK = work
        for test in TESTS:
            if ARGS.only and ARGS.only not in test.__name__:
                continue
            t0 = time.monotonic()
            try:
                test()
                print(f"[  OK  ] {test.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
            except Exception as e:  # pylint: disable=broad-except
                failed.append(test.__name__)
                detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
                print(f"[FAILED] {test.__name__} ({time.monotonic() - t0:.1f}s)\n{detail}",
                      flush=True)
    subprocess.run(["wineserver", "-k"], env=wine_env(), check=False)
    print(f"{len(failed)} failed" + (f": {', '.join(failed)}" if failed else "")
          + f"; {time.monotonic() - started:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
