#!/usr/bin/env python3
"""Tests of scripts/check-log.py on made-up server logs: one log and one run
as before, and several logs (servers behind a balancer) with several runs
(load generators on several hosts), where one stream may be split over logs.

    python3 tests/scripts/check_log_test.py        (standard library only)
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "check-log.py")
PREFIX = "[2026-11-30 05:00:00.000] [info] "


def connection(ip, port, conn, seqs, frames=None, via=None):
    """The lines one load generator connection leaves in a server log."""
    lines = [PREFIX + f"[tcp server] client connected: ip={ip}, port={port}"
             + (f" (via={via})" if via else "")]
    for seq in seqs:
        lines.append(PREFIX + f"[tcp/{ip}:{port}] conn={conn} seq={seq} abcdefgh")
    n = len(seqs) if frames is None else frames
    lines.append(PREFIX + f"[tcp server] client disconnected: ip={ip}, port={port} "
                 f"(reason=peer closed, frames={n}, bytes={n * 30}, duration=0.001s)")
    return lines


def server_log(*connections, stats_frames=None):
    lines = [PREFIX + "[tcp server] listening on 198.18.0.11:9000 (workers=1)"]
    for c in connections:
        lines += c
    if stats_frames is not None:
        lines.append(PREFIX + f"[tcp server] stats: connections=0, accepted=1, refused=0, "
                     f"frames={stats_frames}, bytes=0, errors=0, final=true")
    return "\n".join(lines) + "\n"


def json_connection(ip, port, conn, seqs, frames=None):
    """connection() as --log-format json lines."""
    ts = {"ts": "2026-11-30T05:00:00.000+00:00", "level": "info"}
    lines = [json.dumps({**ts, "event": "connected", "ip": ip, "port": port})]
    for seq in seqs:
        lines.append(json.dumps({**ts, "event": "message", "ip": ip, "port": port,
                                 "payload": f"conn={conn} seq={seq} ab\"c\\d\n"}))
    n = len(seqs) if frames is None else frames
    lines.append(json.dumps({**ts, "event": "disconnected", "ip": ip, "port": port,
                             "reason": "peer closed", "frames": n, "bytes": n * 30,
                             "duration_s": 0.001}))
    return lines


def json_server_log(*connections, stats_frames=None):
    ts = {"ts": "2026-11-30T05:00:00.000+00:00", "level": "info"}
    lines = [json.dumps({**ts, "event": "listening", "address": "127.0.0.1:9000", "port": 9000})]
    lines.append(json.dumps({**ts, "level": "warning", "event": "warning", "ip": "127.0.0.9",
                             "port": 1, "message": "frame too large: ip=127.0.0.9, port=1"}))
    for c in connections:
        lines += c
    if stats_frames is not None:
        lines.append(json.dumps({**ts, "event": "stats", "connections": 0, "accepted": 1,
                                 "frames": stats_frames, "uptime_s": 1.5, "final": True}))
    return "\n".join(lines) + "\n"


def run_json(sent, per_connection):
    return {"connections": {"opened": 1, "failed": 0}, "frames": {"sent": sent, "echoed": 0},
            "options": {"frames_per_connection": per_connection}}


class CheckLogTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, content):
        path = os.path.join(self.dir.name, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return path

    def check(self, *args):
        r = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)
        return r.returncode, r.stdout + r.stderr

    def test_one_log_one_run_as_before(self):
        log = self.write("s.log", server_log(connection("127.0.0.1", 5000, 0, range(3)),
                                             connection("127.0.0.1", 5001, 1, range(3)),
                                             stats_frames=6))
        run = self.write("run.json", run_json(6, 3))
        rc, out = self.check(log, "--json", run)
        self.assertEqual(rc, 0, out)
        self.assertIn("peers 2, load connections 2, loadgen frames 6", out)
        self.assertIn("server stats frames=6, logged messages 6", out)
        self.assertIn("loadgen sent 6 frames (from --json): match", out)

    def test_a_source_port_used_again_by_a_later_connection(self):
        # Once a connection has closed, Linux may give its source port to a
        # later one on loopback (tcp_tw_reuse): one peer address, two streams.
        log = self.write("s.log", server_log(connection("127.0.0.1", 5000, 0, range(3)),
                                             connection("127.0.0.1", 5000, 1, range(3)),
                                             stats_frames=6))
        run = self.write("run.json", run_json(6, 3))
        rc, out = self.check(log, "--json", run)
        self.assertEqual(rc, 0, out)
        self.assertIn("peers 1, load connections 2, loadgen frames 6", out)
        self.assertIn("gaps 0, duplicates 0, out of order 0", out)

    def test_three_logs_two_runs(self):
        # Two load generators, both numbering their connections from 0: the
        # streams are told apart by the client address.
        a = self.write("a.log", server_log(connection("198.18.0.21", 40000, 0, range(4)),
                                           connection("198.18.0.22", 40000, 0, range(4)),
                                           stats_frames=8))
        b = self.write("b.log", server_log(connection("198.18.0.21", 40001, 1, range(4)),
                                           stats_frames=4))
        c = self.write("c.log", server_log(connection("198.18.0.22", 40001, 1, range(4)),
                                           stats_frames=4))
        r1 = self.write("lg-1.json", run_json(8, 4))
        r2 = self.write("lg-2.json", run_json(8, 4))
        rc, out = self.check(a, b, c, "--json", r1, "--json", r2)
        self.assertEqual(rc, 0, out)
        self.assertIn("peers 4, load connections 4, loadgen frames 16", out)
        self.assertIn("loadgen sent 16 frames (8 + 8 from 2 --json runs): match", out)
        self.assertIn("a.log: loadgen frames 8 (50.0 %), server stats frames=8", out)
        # One run alone does not account for the frames of both.
        rc, out = self.check(a, b, c, "--json", r1)
        self.assertEqual(rc, 1, out)
        self.assertIn("MISMATCH", out)

    def test_a_stream_split_over_two_logs_counts_once(self):
        first = connection("198.18.0.21", 40000, 0, range(0, 3))[:-1]  # no disconnect here
        rest = [PREFIX + f"[tcp/198.18.0.21:40000] conn=0 seq={s} x" for s in range(3, 6)]
        rest.append(PREFIX + "[tcp server] client disconnected: ip=198.18.0.21, port=40000 "
                    "(reason=peer closed, frames=6, bytes=1, duration=0.001s)")
        a = self.write("a.log", server_log(first))
        b = self.write("b.log", server_log(rest))
        run = self.write("run.json", run_json(6, 6))
        rc, out = self.check(a, b, "--json", run)
        self.assertEqual(rc, 0, out)
        self.assertIn("gaps 0, duplicates 0, out of order 0", out)

    def test_lost_frame_in_one_of_three_logs(self):
        a = self.write("a.log", server_log(connection("198.18.0.21", 40000, 0, range(5))))
        b = self.write("b.log", server_log(
            connection("198.18.0.21", 40001, 1, [0, 1, 3, 4], frames=5)))
        c = self.write("c.log", server_log(connection("198.18.0.22", 40000, 0, range(5))))
        r1 = self.write("lg-1.json", run_json(10, 5))
        r2 = self.write("lg-2.json", run_json(5, 5))
        rc, out = self.check(a, b, c, "--json", r1, "--json", r2)
        self.assertEqual(rc, 1, out)
        self.assertIn("gaps 1", out)
        self.assertIn("peer 198.18.0.21:40001 conn=1", out)
        self.assertIn("server counted frames=5 but logged 4 messages", out)
        self.assertIn("the load generators sent 15 frames, the logs have 14", out)

    def test_stats_line_checked_per_log(self):
        a = self.write("a.log", server_log(connection("198.18.0.21", 40000, 0, range(2)),
                                           stats_frames=2))
        b = self.write("b.log", server_log(connection("198.18.0.21", 40001, 1, range(2)),
                                           stats_frames=3))
        rc, out = self.check(a, b)
        self.assertEqual(rc, 1, out)
        self.assertIn("b.log: the server counted 3 frames but logged 2", out)

    def test_peer_story_over_several_logs(self):
        a = self.write("a.log", server_log(connection("198.18.0.21", 40000, 0, range(2))))
        b = self.write("b.log", server_log(connection("198.18.0.21", 40001, 1, range(2))))
        rc, out = self.check(a, b, "--peer", "198.18.0.21:40001")
        self.assertEqual(rc, 0, out)
        self.assertIn("== " + b, out)
        self.assertNotIn("== " + a, out)
        self.assertIn("summary: conn=1: 2 frames", out)
        rc, out = self.check(a, b, "--peer", "198.18.0.99:1")
        self.assertEqual(rc, 1, out)

    def test_json_log_is_checked_like_a_text_log(self):
        log = self.write("j.log", json_server_log(json_connection("127.0.0.1", 5000, 0, range(3)),
                                                  json_connection("::1", 5001, 1, range(3)),
                                                  stats_frames=6))
        run = self.write("run.json", run_json(6, 3))
        rc, out = self.check(log, "--json", run)
        self.assertEqual(rc, 0, out)
        self.assertIn("peers 2, load connections 2, loadgen frames 6", out)
        self.assertIn("server stats frames=6, logged messages 6", out)
        self.assertIn("loadgen sent 6 frames (from --json): match", out)
        rc, out = self.check(log, "--peer", "[::1]:5001")
        self.assertEqual(rc, 0, out)
        self.assertIn("summary: conn=1: 3 frames", out)

    def test_json_log_with_a_lost_frame_fails(self):
        log = self.write("j.log", json_server_log(
            json_connection("127.0.0.1", 5000, 0, [0, 2], frames=3), stats_frames=3))
        rc, out = self.check(log)
        self.assertEqual(rc, 1, out)
        self.assertIn("gaps 1", out)
        self.assertIn("server counted frames=3 but logged 2 messages", out)

    def test_text_and_json_logs_together(self):
        a = self.write("a.log", server_log(connection("198.18.0.21", 40000, 0, range(4))))
        b = self.write("b.log", json_server_log(json_connection("198.18.0.22", 40000, 0,
                                                                range(4))))
        rc, out = self.check(a, b, "--json", self.write("r.json", run_json(8, 4)))
        self.assertEqual(rc, 0, out)

    def test_rotated_files_are_read_oldest_first_in_any_order(self):
        # One connection's 12 frames over four rotated files (--log-max-size).
        lines = connection("127.0.0.1", 5000, 0, range(12))
        chunks = [lines[0:4], lines[4:7], lines[7:10], lines[10:]]
        listening = PREFIX + "[tcp server] listening on 127.0.0.1:9000 (workers=1)"
        stats = PREFIX + ("[tcp server] stats: connections=0, accepted=1, frames=12, "
                          "final=true")
        paths = []
        for k, chunk in enumerate(chunks):
            name = "server.log" + ("" if k == 3 else f".{3 - k}")
            body = ([listening] if k == 0 else []) + chunk + ([stats] if k == 3 else [])
            paths.append(self.write(name, "\n".join(body) + "\n"))
        # As a shell glob gives them: server.log server.log.1 server.log.2 server.log.3
        rc, out = self.check(*sorted(paths), "--json", self.write("r.json", run_json(12, 12)))
        self.assertEqual(rc, 0, out)
        self.assertIn("gaps 0, duplicates 0, out of order 0", out)


if __name__ == "__main__":
    unittest.main()
