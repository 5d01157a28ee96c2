#!/usr/bin/env python3
"""plot-latency.py: draws uvframe-loadgen --histogram files as a latency by
percentile chart (PNG), one curve per run, so runs can be compared.

    plot-latency.py RUN.txt [OTHER.txt:label ...] [-o latency.png] [--title TEXT]

Each input is the text uvframe-loadgen writes with --histogram (HdrHistogram's
percentile distribution layout: Value, Percentile, TotalCount, 1/(1-Percentile),
values in microseconds). The x axis is 1/(1-percentile) on a log scale, so the
tail (99 %, 99.9 %, 99.99 %) gets as much room as the median; a curve's label
is the text after ':' in its argument, or else the file's "# run:" line.
Needs python3-matplotlib (Debian's; found through /usr/bin/python3 when the
python3 running the script has none). Exit status 0, or 2 on unreadable or empty input.
"""

import argparse
import math
import os
import sys

import debian_python  # scripts/debian_python.py: Debian's matplotlib from any python3


def parse_histogram(path):
    """Returns (description, [(percentile fraction, value µs)], max µs)."""
    description, rows, max_us = None, [], None
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("# run:"):
                description = line[len("# run:"):].strip()
            if line.startswith("#[Max"):
                try:
                    max_us = float(line.split("=")[1].split(",")[0])
                except (IndexError, ValueError):
                    pass
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) != 4:
                continue
            try:
                value, fraction = float(parts[0]), float(parts[1])
            except ValueError:
                continue  # the column header
            rows.append((fraction, value))
    return description, rows, max_us


def split_argument(argument):
    """'run.txt:label' -> ('run.txt', 'label'); a plain path has no label."""
    if os.path.exists(argument):
        return argument, None
    path, sep, label = argument.rpartition(":")
    if sep and os.path.exists(path):
        return path, label
    return argument, None


def plot(runs, output, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator

    fig, ax = plt.subplots(figsize=(10, 6), dpi=100)
    widest = 10.0
    for label, rows, max_us in runs:
        points = [(1.0 / (1.0 - p), v) for p, v in rows if p < 1.0]
        if not points:
            continue
        widest = max(widest, points[-1][0])
        xs, ys = zip(*points)
        line, = ax.plot(xs, ys, label=label, linewidth=1.6)
        if max_us is not None:
            ax.axhline(max_us, color=line.get_color(), linestyle=":", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    nines = max(1, math.ceil(math.log10(widest)))
    ticks = [10.0 ** k for k in range(0, nines + 1)]
    names = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%", "99.99999%"]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([names[k] if k < len(names) else f"1-1e-{k}" for k in range(len(ticks))])
    ax.set_xlim(1.0, ticks[-1])
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (µs); dotted: max")
    ax.set_title(title)
    ax.grid(True, which="major", linestyle="--", linewidth=0.5)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)


def main(argv):
    parser = argparse.ArgumentParser(
        description="Draw uvframe-loadgen --histogram files as a latency by percentile PNG.")
    parser.add_argument("runs", nargs="+", help="histogram files, each optionally FILE:LABEL")
    parser.add_argument("-o", "--output", default="latency.png", help="PNG to write")
    parser.add_argument("--title", default="uvframe-loadgen latency by percentile")
    args = parser.parse_args(argv)
    runs = []
    for argument in args.runs:
        path, label = split_argument(argument)
        try:
            description, rows, max_us = parse_histogram(path)
        except OSError as e:
            print(f"plot-latency: error: {e}", file=sys.stderr)
            return 2
        if not rows:
            print(f"plot-latency: error: {path} holds no percentile rows", file=sys.stderr)
            return 2
        runs.append((label or description or os.path.basename(path), rows, max_us))
    try:
        if not debian_python.require("matplotlib"):
            raise ImportError("matplotlib")
        plot(runs, args.output, args.title)
    except ImportError:
        print("plot-latency: error: needs matplotlib (apt-get install python3-matplotlib)",
              file=sys.stderr)
        return 2
    print(f"plot-latency: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
