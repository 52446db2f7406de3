#!/usr/bin/env python3
"""Writes OUTDIR/index.html from the benchmark runs in OUTDIR.

    bench/dashboard.py OUTDIR

Each subdirectory of OUTDIR is one run of bench/dashboard.sh, named
<UTC timestamp>-<commit> so that names sort by time, holding one Google
Benchmark JSON file per binary (<binary>.json) and, optionally, notes.txt
(what the run skipped or what failed). The page shows, per benchmark family,
a bar chart of the newest run (evergreen beside the peers measured in the
same run) and a line chart of that family over every run found, with a table
of every metric of the newest run. Charts are inline SVG: the page loads
nothing from anywhere. Standard library only.
"""

import html
import json
import os
import re
import sys
from dataclasses import dataclass, field

# Families that put evergreen beside its peers. A member matches the
# benchmarks of one binary whose names match `pattern` (a regular expression
# matched from the start of the name); `metric` is the
# counter (or cpu_time / real_time) charted, the same quantity for every
# member. Benchmarks no family claims get a family of their own per Google
# Benchmark family (binary and function name).
EVERGREEN, BOOST, GO = "evergreen", "Boost", "Go"


@dataclass
class Member:
    peer: str
    binary: str
    pattern: str
    metric: str


@dataclass
class Family:
    title: str
    members: list
    about: str = ""
    runs: dict = field(default_factory=dict)  # filled in: benchmark key -> metrics


FAMILIES = [
    Family("Context switch", [
        Member(EVERGREEN, "fiber_switch", r"BM_FiberSwitch(WithMain|BetweenFibers)$", "seconds_per_switch"),
        Member(BOOST, "fiber_switch_boost", "BM_BoostJumpFcontext$", "seconds_per_switch"),
    ], "One switch between two stacks: evergreen's Fiber, Boost.Context's jump_fcontext."),
    Family("Fiber create, run, destroy", [
        Member(EVERGREEN, "fiber_switch", "BM_FiberCreateRunDestroy$", "cpu_time"),
        Member(BOOST, "fiber_switch_boost", "BM_BoostCreateRunDestroy$", "cpu_time"),
    ], "CPU time per fiber lifetime."),
    Family("Yield to the loop", [
        Member(EVERGREEN, "task_yield", "BM_TaskYield$", "seconds_per_yield"),
        Member(BOOST, "loop_boost", "BM_BoostFiberYield$", "seconds_per_yield"),
    ]),
    Family("Spawn and join", [
        Member(EVERGREEN, "task_spawn_join", "BM_TaskSpawnJoin$", "seconds_per_task"),
        Member(BOOST, "loop_boost", "BM_BoostFiberSpawnJoin$", "seconds_per_task"),
        Member(GO, "go_compare", "Go_Spawn/", "seconds_per_task"),
    ], "Trivial tasks, 10,000 alive at a time."),
    Family("100,000 timers (warm)", [
        Member(EVERGREEN, "timers", "BM_Timers/", "warm_wall_ms"),
        Member(BOOST, "loop_boost", "BM_BoostFiberTimers/", "wall_ms"),
        Member(GO, "go_compare", "Go_Timers/", "warm_wall_ms"),
    ], "Wall time for 100,000 tasks each sleeping a random 0-100 ms (ideal: 100 ms)."),
    Family("Unbuffered channel ping-pong", [
        Member(EVERGREEN, "channel_ping_pong", "BM_ChannelPingPong/", "seconds_per_round_trip"),
        Member(BOOST, "sync_boost", "BM_BoostUnbufferedChannelPingPong/", "seconds_per_round_trip"),
    ]),
    Family("Idle tasks: memory", [
        Member(EVERGREEN, "idle_tasks", "BM_IdleTasksColdStart/tasks:100000$", "rss_bytes_per_task"),
        Member(BOOST, "sync_boost", "BM_BoostIdleFibers", "rss_bytes_per_task"),
        Member(GO, "go_compare", "Go_Idle", "rss_bytes_per_task"),
    ], "Resident memory per task blocked on one event, 100,000 tasks in a fresh process "
       "(the first benchmark its binary runs: later rounds reuse pooled stacks)."),
    Family("Idle tasks: creation", [
        Member(EVERGREEN, "idle_tasks", "BM_IdleTasksColdStart/tasks:100000$", "create_ns_per_task"),
        Member(BOOST, "sync_boost", "BM_BoostIdleFibers", "create_ns_per_task"),
        Member(GO, "go_compare", "Go_Idle", "create_ns_per_task"),
    ]),
]
COLORS = {EVERGREEN: "#2e7d32", BOOST: "#1565c0", GO: "#00838f"}
SERIES_COLORS = ["#2e7d32", "#1565c0", "#00838f", "#ef6c00", "#6a1b9a", "#c62828",
                 "#558b2f", "#4527a0", "#ad1457", "#37474f"]
NANOSECONDS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
NOT_COUNTERS = {"family_index", "per_family_instance_index", "repetitions",
                "repetition_index", "threads", "iterations"}

DEBUG_NOTE = (
    "Google Benchmark prints “Library was built as DEBUG” (and its JSON says "
    "library_build_type: debug) whenever the library itself was compiled without "
    "NDEBUG. Debian's libbenchmark is built by CMake with build type None "
    "(its benchmarkTargets-none.cmake), which takes Debian's optimized flags (-O2) "
    "but never adds -DNDEBUG: the library imports __assert_fail, yet only 7 of its "
    "functions set up a frame pointer in 51,000 lines of disassembly, as an "
    "optimized build does. The timed loop (for (auto _ : state)) is inline in the "
    "header and compiled into each benchmark with --config=opt (-O2 -DNDEBUG), so the "
    "warning does not describe the measured code: what runs unoptimized-for-asserts "
    "is the library's setup and reporting, outside the timed region.")


def load_runs(outdir):
    """[(run name, {binary: parsed JSON}, notes)] oldest first."""
    runs = []
    for name in sorted(os.listdir(outdir)):
        path = os.path.join(outdir, name)
        if not os.path.isdir(path):
            continue
        binaries = {}
        for file in sorted(os.listdir(path)):
            if file.endswith(".json"):
                try:
                    with open(os.path.join(path, file), encoding="utf-8") as handle:
                        binaries[file[:-5]] = json.load(handle)
                except (OSError, ValueError) as error:
                    print(f"dashboard.py: skipping {path}/{file}: {error}", file=sys.stderr)
        notes = ""
        if os.path.exists(os.path.join(path, "notes.txt")):
            with open(os.path.join(path, "notes.txt"), encoding="utf-8") as handle:
                notes = handle.read().strip()
        if binaries:
            runs.append((name, binaries, notes))
    return runs


def metrics_of(benchmark):
    """Times in ns and every counter of one Google Benchmark JSON entry."""
    scale = NANOSECONDS.get(benchmark.get("time_unit", "ns"), 1.0)
    metrics = {}
    for key, value in benchmark.items():
        if key in ("real_time", "cpu_time") and isinstance(value, (int, float)):
            metrics[key] = value * scale
        elif (key not in NOT_COUNTERS and isinstance(value, (int, float))
              and not isinstance(value, bool)):
            metrics[key] = float(value)
    return metrics


def benchmarks_of(binaries):
    """{(binary, name): metrics} of one run, errors and aggregates left out."""
    found = {}
    for binary, document in binaries.items():
        for benchmark in document.get("benchmarks", []):
            if benchmark.get("error_occurred") or benchmark.get("run_type") == "aggregate":
                continue
            found[(binary, benchmark["name"])] = metrics_of(benchmark)
    return found


def families_for(latest):
    """The families to draw: FAMILIES with members found, then one per rest."""
    claimed, families = set(), []
    for family in FAMILIES:
        members = [m for m in family.members if any(matches(m, key) for key in latest)]
        if not members:
            continue
        claimed.update(key for key in latest if any(matches(m, key) for m in members))
        families.append(Family(family.title, members, family.about))
    rest = {}
    for binary, name in latest:
        if (binary, name) not in claimed:
            rest.setdefault((binary, name.split("/")[0]), []).append(name)
    for (binary, function), names in rest.items():
        metrics = latest[(binary, names[0])]
        metric = next((k for k in metrics if k.startswith("seconds_per_")), "cpu_time")
        families.append(Family(f"{binary}: {function}",
                               [Member(peer_of(binary), binary, re.escape(function) + "($|/)",
                                       metric)]))
    return families


def peer_of(binary):
    if binary.startswith("go_"):
        return GO
    return BOOST if binary.endswith("_boost") else EVERGREEN


def matches(member, key):
    binary, name = key
    return binary == member.binary and re.match(member.pattern, name) is not None


def unit_of(metric):
    """(display unit, factor from the stored value) for a metric name."""
    if metric.startswith("seconds_per_"):
        return "ns", 1e9
    if metric in ("cpu_time", "real_time") or "_ns_" in metric or metric.startswith("ns_"):
        return "ns", 1.0
    if metric.endswith("_ms"):
        return "ms", 1.0
    if metric.endswith("_MiB"):
        return "MiB", 1.0
    if "bytes" in metric:
        return "bytes", 1.0
    if metric.endswith("_per_second"):
        return "per second", 1.0
    return "", 1.0


def short(value):
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return f"{value:.3g}"


def bar_chart(family, latest):
    """An SVG bar per benchmark of the family in the newest run."""
    bars = []
    for member in family.members:
        for key in latest:
            if matches(member, key) and member.metric in latest[key]:
                unit, factor = unit_of(member.metric)
                label = f"{member.peer}: {key[1]}"
                bars.append((label, latest[key][member.metric] * factor, member.peer, unit))
    unit = bars[0][3] if bars else ""
    top = max((value for _, value, _, _ in bars), default=0) or 1
    row, left, width = 24, 360, 900
    height = row * len(bars) + 30
    parts = [f'<svg class="chart bar" data-family="{html.escape(family.title)}" '
             f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{html.escape(family.title)}, newest run">']
    for i, (label, value, peer, _) in enumerate(bars):
        y = 8 + i * row
        length = max(1.0, (width - left - 90) * value / top)
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 6}" '
                     f'fill="{COLORS.get(peer, "#777")}"><title>{html.escape(label)}: '
                     f'{value:.6g} {unit}</title></rect>')
        parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 15}">{short(value)} {unit}</text>')
    parts.append(f'<text x="{left}" y="{height - 6}" class="axis">{html.escape(family.members[0].metric)}'
                 f'{" (" + unit + ")" if unit else ""}, newest run; shorter is better unless a rate</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def history_chart(family, history):
    """An SVG line per benchmark of the family over every run."""
    series = {}
    for index, (_, found) in enumerate(history):
        for member in family.members:
            for key, metrics in found.items():
                if matches(member, key) and member.metric in metrics:
                    unit, factor = unit_of(member.metric)
                    series.setdefault(f"{member.peer}: {key[1]}", []).append(
                        (index, metrics[member.metric] * factor))
    width, height, left, bottom = 900, 240, 70, 30
    plot_w, plot_h = width - left - 20, height - bottom - 20
    top = max((v for points in series.values() for _, v in points), default=0) or 1
    top *= 1.1
    count = max(len(history) - 1, 1)
    legend_rows = len(series)
    total = height + 18 * legend_rows
    unit = unit_of(family.members[0].metric)[0]
    parts = [f'<svg class="chart history" data-family="{html.escape(family.title)}" '
             f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" '
             f'role="img" aria-label="{html.escape(family.title)}, history">',
             f'<line x1="{left}" y1="{20 + plot_h}" x2="{left + plot_w}" y2="{20 + plot_h}" stroke="#999"/>',
             f'<line x1="{left}" y1="20" x2="{left}" y2="{20 + plot_h}" stroke="#999"/>']
    for fraction in (0, 0.5, 1):
        y = 20 + plot_h * (1 - fraction)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                     f'{short(top * fraction)}</text>')
    parts.append(f'<text x="{left}" y="14" class="axis">{html.escape(unit)}</text>')
    for index, (run, _) in enumerate(history):
        if len(history) <= 12 or index in (0, len(history) - 1):
            x = left + plot_w * index / count
            parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" class="axis">'
                         f'{html.escape(run.split("-", 1)[-1][:10])}</text>')
    for number, (label, points) in enumerate(series.items()):
        color = SERIES_COLORS[number % len(SERIES_COLORS)]
        xy = [(left + plot_w * i / count, 20 + plot_h * (1 - v / top)) for i, v in points]
        if len(xy) > 1:
            parts.append('<polyline fill="none" stroke-width="2" stroke="{}" points="{}"/>'.format(
                color, " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)))
        for (x, y), (i, v) in zip(xy, points):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>'
                         f'{html.escape(label)} in {html.escape(history[i][0])}: {v:.6g} {unit}'
                         f'</title></circle>')
        y = height + 14 + 18 * number
        parts.append(f'<rect x="{left}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{left + 18}" y="{y}">{html.escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def metrics_table(family, latest):
    rows = []
    for member in family.members:
        for key, metrics in latest.items():
            if matches(member, key):
                cells = ", ".join(f"{html.escape(k)}={v:.6g}" for k, v in metrics.items())
                rows.append(f"<tr><td>{html.escape(key[0])}</td><td>{html.escape(key[1])}</td>"
                            f"<td>{cells}</td></tr>")
    return ('<table><tr><th>binary</th><th>benchmark</th><th>every metric (times in ns, '
            'seconds_per_* in s)</th></tr>' + "".join(rows) + "</table>")


def context_block(name, binaries, notes):
    context = next(iter(binaries.values())).get("context", {})
    keys = ["date", "commit", "build_config", "build_flags", "host_name", "num_cpus",
            "mhz_per_cpu", "library_build_type"]
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(context[k]))}</dd>"
                    for k in keys if k in context)
    text = f"<h2>Newest run: {html.escape(name)}</h2><dl>{items}</dl>"
    if notes:
        text += f"<pre class=notes>{html.escape(notes)}</pre>"
    return text


STYLE = """body{font:14px sans-serif;margin:24px;max-width:960px;color:#222}
svg text{font:12px sans-serif}svg .axis{fill:#555}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dt{font-weight:bold}
table{border-collapse:collapse;font-size:12px;margin:8px 0 24px}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
.note{background:#fff8e1;padding:8px;border-left:4px solid #f9a825}
pre.notes{background:#eee;padding:8px}section{margin-bottom:32px}"""


def page(runs):
    name, binaries, notes = runs[-1]
    latest = benchmarks_of(binaries)
    history = [(run, benchmarks_of(found)) for run, found, _ in runs]
    sections = []
    for family in families_for(latest):
        sections.append(
            f'<section class="family"><h3>{html.escape(family.title)}</h3>'
            + (f"<p>{html.escape(family.about)}</p>" if family.about else "")
            + bar_chart(family, latest) + "\n" + history_chart(family, history)
            + metrics_table(family, latest) + "</section>")
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>evergreen benchmarks</title><style>{STYLE}</style></head><body>"
            f"<h1>evergreen benchmarks</h1><p>{len(runs)} run(s) in this directory; "
            f"bars: the newest run, lines: every run, oldest first.</p>"
            + context_block(name, binaries, notes)
            + f'<p class="note">{html.escape(DEBUG_NOTE)}</p>'
            + "\n".join(sections) + "</body></html>\n")


def main(argv):
    if len(argv) != 2:
        print("usage: bench/dashboard.py OUTDIR", file=sys.stderr)
        return 2
    outdir = argv[1]
    if not os.path.isdir(outdir):
        print(f"dashboard.py: {outdir}: not a directory", file=sys.stderr)
        return 2
    runs = load_runs(outdir)
    if not runs:
        print(f"dashboard.py: {outdir}: no run directories with benchmark JSON", file=sys.stderr)
        return 2
    with open(os.path.join(outdir, "index.html"), "w", encoding="utf-8") as handle:
        handle.write(page(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
