#!/usr/bin/env python3
"""The bookkeeping of bench/run_go_compare.sh (standard library only).

    cold_compare.py counters WORKLOAD JSON
        Reads one Google Benchmark JSON file from a *ColdStart benchmark run
        alone in a fresh process and prints its figures as result lines,
        "WORKLOAD evergreen FIGURE VALUE". Exits 1, naming the file, unless it
        holds exactly one benchmark and that one ran (a *ColdStart benchmark
        that was not first in its process reports an error instead of a
        figure).

    cold_compare.py summary RESULTS
        Reads result lines (ours as above, Go's as "WORKLOAD go FIGURE VALUE")
        and prints, per workload and figure measured on both sides, the median
        of each side, the ratio evergreen / Go and every run.
"""

import collections
import json
import statistics
import sys

FIGURES = ("cold_wall_ms", "create_ns_per_task", "rss_bytes_per_task", "peak_rss_MiB")


class BadInput(Exception):
    pass


def counters(workload, path):
    try:
        with open(path, encoding="utf-8") as file:
            runs = json.load(file).get("benchmarks", [])
    except (OSError, ValueError) as error:
        raise BadInput(f"{path}: cannot read benchmark JSON: {error}") from None
    if len(runs) != 1:
        names = [run.get("name") for run in runs]
        raise BadInput(f"{path}: {workload}: expected one benchmark, found {len(runs)}: {names}")
    run = runs[0]
    if run.get("error_occurred"):
        raise BadInput(f"{path}: {workload}: {run.get('name')} failed: {run.get('error_message')}")
    found = [figure for figure in FIGURES if figure in run]
    if not found:
        raise BadInput(f"{path}: {workload}: {run.get('name')} reports none of {', '.join(FIGURES)}")
    return [f"{workload} evergreen {figure} {run[figure]}" for figure in found]


def summary(path):
    values = collections.defaultdict(list)
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            fields = line.split()
            if not fields:
                continue
            try:
                workload, side, figure, value = fields
                values[(workload, figure, side)].append(float(value))
            except ValueError:
                raise BadInput(f"{path}:{number}: not 'WORKLOAD SIDE FIGURE VALUE': {line.strip()}") \
                    from None
    lines = [f"{'workload':<10} {'figure':<20} {'evergreen':>12} {'go':>12} {'ratio':>7}"
             "  (every run: evergreen | go)"]
    for workload, figure in dict.fromkeys((w, f) for w, f, _ in values):
        ours, go = values[(workload, figure, "evergreen")], values[(workload, figure, "go")]
        if not ours or not go:
            continue
        a, b = statistics.median(ours), statistics.median(go)
        ratio = f"{a / b:7.2f}" if b else f"{'-':>7}"
        runs = " ".join(f"{v:g}" for v in ours) + " | " + " ".join(f"{v:g}" for v in go)
        lines.append(f"{workload:<10} {figure:<20} {a:>12.1f} {b:>12.1f} {ratio}  ({runs})")
    if len(lines) == 1:
        raise BadInput(f"{path}: no figure measured on both sides")
    return lines


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "counters":
            print("\n".join(counters(argv[2], argv[3])))
        elif len(argv) == 3 and argv[1] == "summary":
            print("\n".join(summary(argv[2])))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except BadInput as error:
        print(f"cold_compare.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
