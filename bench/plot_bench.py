#!/usr/bin/env python3
"""plot_bench: draws the ratios of one bench_driver result (results/<date>.json)
as a bar chart, one bar per ratio, with its target as a tick mark, and a
second panel of frames/s per scenario. Used by bench_driver.py; can also be
run by hand: plot_bench.py results/<date>.json [out.png]."""
import json
import sys


def plot_ratios(doc, png_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = doc["ratios"]
    runs = [r for r in doc["runs"] if r.get("ok")]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(12, 9))

    labels = [f"{q['what']}\n{q['size']} B, {q['connections']} conns" for q in ratios]
    values = [q["ratio"] for q in ratios]
    colors = []
    for q in ratios:
        if q["target"] is None:
            colors.append("tab:gray")
        else:
            colors.append("tab:green" if q["ratio"] >= q["target"] else "tab:red")
    x = range(len(ratios))
    ax1.bar(x, values, color=colors)
    for i, q in enumerate(ratios):
        if q["target"] is not None:
            ax1.hlines(q["target"], i - 0.4, i + 0.4, colors="black", linestyles="dashed")
        ax1.text(i, q["ratio"], f"{q['ratio']:.2f}", ha="center", va="bottom", fontsize=8)
    ax1.set_xticks(list(x))
    ax1.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax1.axhline(1.0, color="gray", linewidth=0.5)
    ax1.set_ylabel("ratio of frames/s (dashed: target)")
    ax1.set_title(f"uvframe bench {doc['date']}{' (quick)' if doc.get('quick') else ''}, "
                  f"{doc['machine']['cpus']} CPUs, {doc['duration_s']} s per load")

    cells = sorted({(r["size"], r["connections"]) for r in runs})
    scenarios = ["ref_plain", "uv_nolog", "ref_log", "uv_log", "uv_log_proxy", "ref_echo", "uv_echo",
                 "blaster"]
    scenarios = [x for x in scenarios if any(r["scenario"] == x for r in runs)]
    width = 0.8 / len(scenarios)
    by = {(r["scenario"], r["size"], r["connections"]): r for r in runs}
    for j, scen in enumerate(scenarios):
        ys = [by.get((scen, s, c), {}).get("frames_per_s", 0) / 1e6 for s, c in cells]
        ax2.bar([i + j * width for i in range(len(cells))], ys, width, label=scen)
    ax2.set_xticks([i + 0.4 - width / 2 for i in range(len(cells))])
    ax2.set_xticklabels([f"{s} B, {c} conns" for s, c in cells])
    ax2.set_yscale("log")  # 64 B and 1024 B payloads differ tenfold
    ax2.set_ylabel("M frames/s received by the server (log scale)")
    ax2.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return png_path


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: plot_bench.py results/<date>.json [out.png]", file=sys.stderr)
        sys.exit(2)
    with open(sys.argv[1]) as f:
        document = json.load(f)
    out = sys.argv[2] if len(sys.argv) > 2 else sys.argv[1].rsplit(".", 1)[0] + ".png"
    print(plot_ratios(document, out))
