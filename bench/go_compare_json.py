#!/usr/bin/env python3
"""Turns bench/go_compare's output lines (stdin) into Google Benchmark JSON
(stdout), so the dashboard and compare.py read the Go baselines as they read
the C++ benchmarks.

    go_compare idle 100000 | bench/go_compare_json.py [KEY=VALUE...]

Names follow the C++ benchmarks' (Go_Idle/tasks:100000), and so do the
counters, units in their names: create_ns_per_task, rss_bytes_per_task,
cold_wall_ms and warm_wall_ms, seconds_per_task. KEY=VALUE pairs go into
"context".
"""

import json
import re
import sys

LINE = re.compile(r"go (\w+) (\d+): (.*)")
# Go's field -> (counter, factor to the counter's unit), per suffix.
FIELDS = {
    ("create_per_task", "us"): ("create_ns_per_task", 1e3),
    ("rss_per_task", "B"): ("rss_bytes_per_task", 1.0),
    ("wall_ms", ""): ("cold_wall_ms", 1.0),  # the first round in a fresh process, as BM_TimersColdStart's
    ("warm_wall_ms", ""): ("warm_wall_ms", 1.0),
    ("per_task", "ns"): ("seconds_per_task", 1e-9),
}


def convert(lines):
    benchmarks = []
    for line in lines:
        match = LINE.match(line.strip())
        if not match:
            continue
        mode, count, fields = match.groups()
        entry = {"name": f"Go_{mode.capitalize()}/tasks:{count}", "run_type": "iteration",
                 "iterations": 1, "time_unit": "ns"}
        for field in fields.split():
            key, _, text = field.partition("=")
            number = re.match(r"[0-9.eE+-]+", text)
            if not number:
                continue
            suffix = text[number.end():]
            if (key, suffix) in FIELDS:
                counter, factor = FIELDS[(key, suffix)]
                entry[counter] = float(number.group()) * factor
        benchmarks.append(entry)
    return benchmarks


def main(argv):
    context = dict(pair.split("=", 1) for pair in argv[1:] if "=" in pair)
    benchmarks = convert(sys.stdin)
    if not benchmarks:
        print("go_compare_json.py: no 'go MODE N: ...' lines on stdin", file=sys.stderr)
        return 1
    json.dump({"context": context, "benchmarks": benchmarks}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
