#!/usr/bin/env python3
"""check-log.py: proves from uvframe-server logs that load generator runs
lost nothing: every frame logged exactly once and, per connection, in order.

uvframe-loadgen payloads start "conn=<id> seq=<n> ", so each logged message
names its frame. For every (peer, conn) stream the script counts frames,
gaps (sequence numbers never seen), duplicates and out-of-order frames, checks
each peer's message count against the "frames=N" of its disconnect lines, and
with --json RUN.json checks the total against what the load generator says it
sent (and, for --frames-per-connection runs, each stream's length).

Several logs (the servers behind a balancer) and several --json files (load
generators run on several hosts at once) are checked as one: the frames of a
(peer, conn) stream are counted across all the logs, and the expected total is
the sum of the runs' frames sent. Each log with a final stats line is also
checked on its own (the server's frames= against the messages it logged).

    check-log.py SERVER_LOG [--json RUN.json]       completeness report
    check-log.py LOG_A LOG_B LOG_C --json RUN_1.json --json RUN_2.json
    check-log.py SERVER_LOG... --peer 127.0.0.1:55244  one connection's story

JSON logs (--log-format json) are read as well, detected per file by their
first line; their events are checked like the text lines. Rotated files of
one log (--log-max-size: server.log.3 server.log.2 server.log.1 server.log)
may be named in any order, e.g. `check-log.py server.log*`: the files of one
rotation chain are read oldest first.

Exit status: 0 when everything is complete, 1 on any gap, duplicate,
reordering or count mismatch (or, with --peer, when the peer is not in any
log), 2 on bad arguments or an unreadable file.
"""

import argparse
import collections
import json
import re
import sys

# The message tag comes right after spdlog's prefix: "[tcp/127.0.0.1:55244] "
# or "[tcp/[::1]:55244] "; the first tag on the line is the real one.
MESSAGE_RE = re.compile(r"\[tcp/(\[[0-9A-Fa-f:.]+\]:\d+|[0-9.]+:\d+)\] ?(.*)$")
CONNECTED_RE = re.compile(r"\[tcp server\] client connected: ip=([^,\s]+), port=(\d+)")
DISCONNECTED_RE = re.compile(
    r"\[tcp server\] client disconnected: ip=([^,\s]+), port=(\d+)(?: \((.*)\))?")
LISTENING_RE = re.compile(r"\[tcp server\] listening on ")
STATS_RE = re.compile(r"\[tcp server\] stats: (.*)$")
PAYLOAD_RE = re.compile(r"conn=(\d+) seq=(\d+)(?: |$)")
MAX_PROBLEM_LINES = 20


def peer_key(ip, port):
    """'127.0.0.1:55244' or '[::1]:55244', as the message tags write it."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def parse_pairs(text):
    """'reason=peer closed, frames=4' -> {'reason': 'peer closed', 'frames': '4'}."""
    pairs = {}
    for part in text.split(", "):
        key, sep, value = part.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


class Stream:
    """The frames of one load generator connection as one peer delivered them."""

    __slots__ = ("count", "max_seq", "seen", "duplicates", "out_of_order")

    def __init__(self):
        self.count = 0
        self.max_seq = -1
        self.seen = bytearray()  # one bit per sequence number
        self.duplicates = 0
        self.out_of_order = 0

    def add(self, seq):
        self.count += 1
        byte, bit = divmod(seq, 8)
        if byte >= len(self.seen):
            self.seen.extend(bytes(max(byte + 1 - len(self.seen), len(self.seen))))
        if self.seen[byte] & (1 << bit):
            self.duplicates += 1
            return
        self.seen[byte] |= 1 << bit
        if seq < self.max_seq:
            self.out_of_order += 1
        self.max_seq = max(self.max_seq, seq)

    def distinct(self):
        return self.count - self.duplicates

    def gaps(self):
        return self.max_seq + 1 - self.distinct()


class PeerLog:
    """What the logs say about one peer address."""

    __slots__ = ("messages", "connected", "disconnected", "summary_frames")

    def __init__(self):
        self.messages = 0
        self.connected = 0
        self.disconnected = 0
        # frames= added over the peer's disconnect lines (a port may be used
        # again, in one log or, behind a balancer, in another); None: no line
        self.summary_frames = None


class FileScan:
    """What one log file says about itself."""

    __slots__ = ("path", "messages", "load_frames", "server_starts", "last_stats")

    def __init__(self, path):
        self.path = path
        self.messages = 0  # message lines
        self.load_frames = 0  # message lines that are load generator frames
        self.server_starts = 0
        self.last_stats = None


class LogScan:
    def __init__(self):
        self.streams = {}  # (peer, conn id) -> Stream, across all files
        self.peers = {}  # peer -> PeerLog, across all files
        self.other_messages = 0
        self.files = []  # FileScan per file, in the order given
        self.file = None

    def begin_file(self, path):
        self.file = FileScan(path)
        self.files.append(self.file)

    def peer(self, key):
        log = self.peers.get(key)
        if log is None:
            log = self.peers[key] = PeerLog()
        return log

    def feed(self, line):
        m = MESSAGE_RE.search(line)
        if m:
            peer = m.group(1)
            self.peer(peer).messages += 1
            self.file.messages += 1
            p = PAYLOAD_RE.match(m.group(2))
            if p is None:
                self.other_messages += 1
                return
            self.file.load_frames += 1
            key = (peer, int(p.group(1)))
            stream = self.streams.get(key)
            if stream is None:
                stream = self.streams[key] = Stream()
            stream.add(int(p.group(2)))
            return
        if "[tcp server]" not in line:
            return
        if (m := CONNECTED_RE.search(line)):
            self.peer(peer_key(m.group(1), m.group(2))).connected += 1
        elif (m := DISCONNECTED_RE.search(line)):
            log = self.peer(peer_key(m.group(1), m.group(2)))
            log.disconnected += 1
            summary = parse_pairs(m.group(3) or "")
            if "frames" in summary:
                log.summary_frames = (log.summary_frames or 0) + int(summary["frames"])
        elif LISTENING_RE.search(line):
            self.file.server_starts += 1
        elif (m := STATS_RE.search(line)):
            self.file.last_stats = parse_pairs(m.group(1))


def json_as_text(line):
    """One --log-format json line as the text line it stands for (the body,
    without spdlog's prefix), or the line itself when it is not JSON."""
    try:
        e = json.loads(line)
    except ValueError:
        return line
    if not isinstance(e, dict):
        return line
    event = e.get("event")
    ip, port = e.get("ip"), e.get("port")
    if event == "message":
        return f"[tcp/{peer_key(ip, port)}] {e.get('payload', '')}"
    if event == "connected":
        return f"[tcp server] client connected: ip={ip}, port={port}"
    if event == "disconnected":
        return (f"[tcp server] client disconnected: ip={ip}, port={port} "
                f"(reason={e.get('reason')}, frames={e.get('frames')}, bytes={e.get('bytes')})")
    if event == "listening":
        return f"[tcp server] listening on {e.get('address')}"
    if event == "stats":
        skip = ("ts", "level", "event")
        pairs = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                          for k, v in e.items() if k not in skip)
        return f"[tcp server] stats: {pairs}"
    return f"[tcp server] {event}: {e.get('message', '')}"


def read_lines(path):
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        first = True
        is_json = False
        for line in f:
            line = line.rstrip("\n")
            if first:
                is_json = line.startswith("{")
                first = False
            yield json_as_text(line) if is_json else line


ROTATED_RE = re.compile(r"^(.*)\.(\d+)$")


def rotation_order(paths):
    """The paths in the order given, except that the files of one rotation
    chain (BASE, BASE.1, BASE.2, ...) are read together, oldest first."""
    def base_of(path):
        m = ROTATED_RE.match(path)
        return (m.group(1), int(m.group(2))) if m else (path, 0)
    groups = collections.defaultdict(list)
    for path in paths:
        groups[base_of(path)[0]].append(path)
    ordered, done = [], set()
    for path in paths:
        base = base_of(path)[0]
        if base in done:
            continue
        done.add(base)
        ordered += sorted(groups[base], key=lambda p: -base_of(p)[1])
    return ordered


def load_run(path):
    with open(path, "r", encoding="utf-8") as f:
        run = json.load(f)
    return run


def frames_per_connection(runs):
    """The frames every stream must hold: the runs' --frames-per-connection
    when all of them completed with the same one, else 0 (not checked)."""
    counts = set()
    for run in runs:
        if run.get("connections", {}).get("failed", 0) != 0 or run.get("interrupted"):
            return 0
        counts.add(int(run.get("options", {}).get("frames_per_connection", 0) or 0))
    return counts.pop() if len(counts) == 1 else 0


def check_streams(scan, runs, problems):
    """Per-stream and per-peer checks; appends problem lines, returns totals."""
    totals = {"frames": 0, "gaps": 0, "duplicates": 0, "out_of_order": 0, "short": 0}
    per_conn = frames_per_connection(runs) if runs else 0
    for (peer, conn), s in sorted(scan.streams.items(), key=lambda kv: kv[0][1]):
        totals["frames"] += s.count
        totals["gaps"] += s.gaps()
        totals["duplicates"] += s.duplicates
        totals["out_of_order"] += s.out_of_order
        bad = s.gaps() or s.duplicates or s.out_of_order
        short = per_conn and s.distinct() != per_conn
        if short:
            totals["short"] += 1
        if bad or short:
            problems.append(
                f"peer {peer} conn={conn}: {s.count} frames, seq 0..{s.max_seq}, "
                f"{s.gaps()} gaps, {s.duplicates} duplicates, {s.out_of_order} out of order"
                + (f", expected {per_conn} frames" if short else ""))
    for peer, log in sorted(scan.peers.items()):
        if log.summary_frames is not None:
            server_frames = log.summary_frames
            if server_frames != log.messages:
                problems.append(f"peer {peer}: server counted frames={server_frames} "
                                f"but logged {log.messages} messages")
    return totals


def report(scan, runs):
    problems = []
    t = check_streams(scan, runs, problems)
    several = len(scan.files) > 1
    print(f"check-log: {', '.join(f.path for f in scan.files)}")
    # A stream is one load generator connection: (peer, conn id); conn ids
    # alone repeat when several load generators ran.
    print(f"  peers {len(scan.peers)}, load connections {len(scan.streams)}, "
          f"loadgen frames {t['frames']}, other messages {scan.other_messages}")
    print(f"  gaps {t['gaps']}, duplicates {t['duplicates']}, out of order {t['out_of_order']}")
    for f in scan.files:
        stats_ok = f.last_stats and "frames" in f.last_stats and f.server_starts == 1
        if several:
            line = (f"  {f.path}: loadgen frames {f.load_frames}"
                    + (f" ({100.0 * f.load_frames / t['frames']:.1f} %)" if t["frames"] else ""))
            if stats_ok:
                line += f", server stats frames={f.last_stats['frames']}, logged messages {f.messages}"
            print(line)
        elif stats_ok:
            print(f"  server stats frames={f.last_stats['frames']}, logged messages {f.messages}")
        if stats_ok and int(f.last_stats["frames"]) != f.messages:
            problems.append(f"{f.path}: the server counted {f.last_stats['frames']} frames "
                            f"but logged {f.messages}")
    if runs:
        sents = [int(run.get("frames", {}).get("sent", -1)) for run in runs]
        sent = sum(sents)
        verdict = "match" if sent == t["frames"] else "MISMATCH"
        if len(runs) == 1:
            print(f"  loadgen sent {sent} frames (from --json): {verdict}")
        else:
            parts = " + ".join(str(n) for n in sents)
            print(f"  loadgen sent {sent} frames ({parts} from {len(runs)} --json runs): {verdict}")
        if sent != t["frames"]:
            who = "the load generator" if len(runs) == 1 else "the load generators"
            where = "the log has" if not several else "the logs have"
            problems.append(f"{who} sent {sent} frames, {where} {t['frames']}")
    for line in problems[:MAX_PROBLEM_LINES]:
        print(f"  problem: {line}")
    if len(problems) > MAX_PROBLEM_LINES:
        print(f"  ... and {len(problems) - MAX_PROBLEM_LINES} more problems")
    print("FAILED" if problems else "OK")
    return 1 if problems else 0


def normalize_peer(text):
    m = re.fullmatch(r"\[?([0-9A-Fa-f:.]+?)\]?:(\d+)", text.strip())
    if not m:
        return None
    return peer_key(m.group(1), m.group(2))


class FrameLines:
    """Frame lines between two connection lines: all of them, or the first
    and last three with a count of those in between."""

    def __init__(self, show_all):
        self.show_all = show_all
        self.head, self.tail, self.hidden = [], collections.deque(maxlen=3), 0

    def add(self, line):
        if self.show_all or len(self.head) < 3:
            self.head.append(line)
            return
        if len(self.tail) == self.tail.maxlen:
            self.hidden += 1
        self.tail.append(line)

    def flush(self):
        for line in self.head:
            print(line)
        if self.hidden:
            print(f"  ... {self.hidden} more frames ...")
        for line in self.tail:
            print(line)
        self.head, self.hidden = [], 0
        self.tail.clear()


def story(paths, peer, show_all):
    """Prints what the logs say about one peer, in log order (file by file,
    each named when there are several): its connect line, its frames, its
    disconnect line (with the reason), then a summary."""
    streams = {}
    found = False
    for path in paths:
        frames = FrameLines(show_all)
        found_here = False
        for line in read_lines(path):
            m = MESSAGE_RE.search(line)
            c = None if m else (CONNECTED_RE.search(line) or DISCONNECTED_RE.search(line))
            if m:
                if m.group(1) != peer:
                    continue
            elif not (c and peer_key(c.group(1), c.group(2)) == peer):
                continue
            if not found_here and len(paths) > 1:
                print(f"== {path}")
            found = found_here = True
            if m:
                frames.add(line)
                p = PAYLOAD_RE.match(m.group(2))
                if p:
                    streams.setdefault(int(p.group(1)), Stream()).add(int(p.group(2)))
            else:
                frames.flush()
                print(line)
        frames.flush()
    if not found:
        print(f"check-log: no line about {peer} in {', '.join(paths)}", file=sys.stderr)
        return 1
    for conn, s in sorted(streams.items()):
        print(f"summary: conn={conn}: {s.count} frames, seq 0..{s.max_seq}, {s.gaps()} gaps, "
              f"{s.duplicates} duplicates, {s.out_of_order} out of order")
    return 0


def main(argv):
    parser = argparse.ArgumentParser(
        description="Check uvframe-server logs for lost, duplicated or reordered "
                    "uvframe-loadgen frames. Several logs (servers behind a balancer) and "
                    "several --json runs (load generators on several hosts) are checked "
                    "as one.")
    parser.add_argument("logs", nargs="+", metavar="SERVER_LOG",
                        help="the servers' log files (--log-file; text or --log-format json, "
                             "detected per file; rotated files FILE.N are read oldest first)")
    parser.add_argument("--json", action="append", default=[], metavar="RUN.json",
                        help="a load generator's --json file, to compare totals "
                             "(repeat for runs made at once: their frames sent are added)")
    parser.add_argument("--peer", help="print the story of one connection, e.g. 127.0.0.1:55244")
    parser.add_argument("--all-frames", action="store_true",
                        help="with --peer, print every frame line, not only the first and last")
    args = parser.parse_args(argv)
    args.logs = rotation_order(args.logs)
    try:
        if args.peer:
            peer = normalize_peer(args.peer)
            if peer is None:
                parser.error(f"--peer: '{args.peer}' is not HOST:PORT")
            return story(args.logs, peer, args.all_frames)
        runs = [load_run(path) for path in args.json]
        scan = LogScan()
        for path in args.logs:
            scan.begin_file(path)
            for line in read_lines(path):
                scan.feed(line)
    except (OSError, ValueError) as e:
        print(f"check-log: error: {e}", file=sys.stderr)
        return 2
    return report(scan, runs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
