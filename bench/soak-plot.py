#!/usr/bin/python3
"""Renders the soak's JSON lines (bench/soak.ts --out) as PNG plots.

Usage: /usr/bin/python3 bench/soak-plot.py SOAK.jsonl OUT_DIR  (the system Python, where Debian installs matplotlib)
Needs matplotlib (Debian: apt-get install -y python3-matplotlib). Writes OUT_DIR/soak-memory.png,
soak-process.png, soak-proxy.png and soak-pods.png (fault times drawn as vertical lines on every plot) and
soak-table.md (one row per EVERY minutes, default 5: `SOAK_TABLE_EVERY=10`), the Markdown table of docs/reliability.md
(paste it into the doc; it is not kept beside the PNGs).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FAULT_COLORS = {
    "agent SIGKILL": "tab:red",
    "dockerd restart": "tab:brown",
    "watches dropped": "tab:gray",
    "API server down 60 s": "tab:purple",
    "etcd restart": "tab:olive",
}


def load(path):
    samples, faults = [], []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            if "fault" in o:
                faults.append((o["minute"], o["fault"]["kind"]))
            elif "kubelet" in o:
                samples.append(o)
    return samples, faults


def series(samples, *keys):
    xs, ys = [], []
    for s in samples:
        v = s
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            xs.append(s["minute"])
            ys.append(v)
    return xs, ys


def draw_faults(ax, faults, with_labels):
    seen = set()
    for minute, kind in faults:
        label = kind if with_labels and kind not in seen else None
        seen.add(kind)
        ax.axvline(minute, color=FAULT_COLORS.get(kind, "black"), alpha=0.35, linewidth=1, label=label)


def figure(title, panels, samples, faults, out):
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 2.4 * len(panels)), sharex=True, dpi=80)
    if len(panels) == 1:
        axes = [axes]
    for i, (ax, (ylabel, lines)) in enumerate(zip(axes, panels)):
        for label, keys in lines:
            xs, ys = series(samples, *keys)
            if xs:
                ax.plot(xs, ys, marker=".", linewidth=1.2, label=label)
            else:
                ax.plot([], [], label=f"{label} (not available)")
        ax.legend(fontsize=7, loc="upper left", ncol=2)
        draw_faults(ax, faults, i == 0)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("minute of the run")
    fig.suptitle(title)
    fault_handles = [h for h in axes[0].get_lines() if h.get_label() in FAULT_COLORS]
    if fault_handles:
        fig.legend(handles=fault_handles, fontsize=7, loc="lower center", ncol=len(fault_handles), title="faults (vertical lines)", title_fontsize=7)
    fig.tight_layout(rect=(0, 0.07 if fault_handles else 0, 1, 1))
    fig.savefig(out)
    plt.close(fig)
    print(out, os.path.getsize(out), "bytes")


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def table(samples, every):
    head = ["min", "kubelet RSS MB", "heap used MB", "fds", "handles", "timers", "loop p99 ms", "API conns",
            "proxy RSS MB", "proxy fds", "iptables rules", "SVC chains / Services with endpoints",
            "pods (running) / app containers / without pod", "Started expected / seen"]
    rows = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    next_min = 0.0
    for s in samples:
        if s["minute"] + 0.5 < next_min and s is not samples[-1]:
            continue
        next_min = (int(s["minute"] + 0.5) // every + 1) * every
        k, p = s.get("kubelet", {}), s.get("proxy", {})
        rows.append("| " + " | ".join([
            f"{s['minute']:.0f}", fmt(k.get("rssMB")), fmt(k.get("heapUsedMB")), fmt(k.get("fds")), fmt(k.get("handles")),
            fmt(k.get("timers")), fmt(k.get("loopP99ms")), fmt(s.get("kubeletApiConns")), fmt(p.get("rssMB")), fmt(p.get("fds")),
            fmt(s.get("iptablesRules")), f"{fmt(s.get('svcChains'))} / {fmt(s.get('svcWithEndpoints'))}",
            f"{fmt(s.get('pods'))} ({fmt(s.get('podsRunning'))}) / {fmt(s.get('containers'))} / {fmt(s.get('containersWithoutPod'))}",
            f"{fmt(s.get('startedExpected'))} / {fmt(s.get('startedSeen'))}",
        ]) + " |")
    return "\n".join(rows) + "\n"


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    samples, faults = load(src)
    with open(os.path.join(out_dir, "soak-table.md"), "w") as f:
        f.write(table(samples, int(os.environ.get("SOAK_TABLE_EVERY", "5"))))
    figure(
        "nodelet soak: memory",
        [
            ("MB", [("kubelet RSS", ("kubelet", "rssMB")), ("proxy RSS", ("proxy", "rssMB"))]),
            ("MB", [("kubelet V8 heap used", ("kubelet", "heapUsedMB")), ("kubelet V8 heap total", ("kubelet", "heapTotalMB"))]),
        ],
        samples,
        faults,
        os.path.join(out_dir, "soak-memory.png"),
    )
    figure(
        "nodelet soak: process (kubelet role)",
        [
            ("count", [("kubelet open fds", ("kubelet", "fds")), ("proxy open fds", ("proxy", "fds"))]),
            ("count", [("active handles", ("kubelet", "handles")), ("active timers", ("kubelet", "timers"))]),
            ("connections", [("kubelet -> API server", ("kubeletApiConns",)), ("proxy -> API server", ("proxyApiConns",))]),
            ("ms", [("event-loop delay p99", ("kubelet", "loopP99ms"))]),
        ],
        samples,
        faults,
        os.path.join(out_dir, "soak-process.png"),
    )
    figure(
        "nodelet soak: proxy role (own netns)",
        [
            ("rules", [("iptables rules (-A)", ("iptablesRules",))]),
            ("services", [("KUBE-SVC chains", ("svcChains",)), ("Services with ready endpoints", ("svcWithEndpoints",))]),
        ],
        samples,
        faults,
        os.path.join(out_dir, "soak-proxy.png"),
    )
    figure(
        "nodelet soak: pods, containers, events",
        [
            ("count", [("pods (API)", ("pods",)), ("pods Running", ("podsRunning",)), ("app containers running", ("containers",)), ("containers without pod", ("containersWithoutPod",))]),
            ("pods", [("Started expected", ("startedExpected",)), ("Started seen", ("startedSeen",))]),
        ],
        samples,
        faults,
        os.path.join(out_dir, "soak-pods.png"),
    )


if __name__ == "__main__":
    main()
