#!/usr/bin/env python3
"""Compares two Google Benchmark runs, user counters included.

    bench/compare.py OLD NEW

OLD and NEW are each a JSON file written with --benchmark_out=FILE
--benchmark_out_format=json, or a run directory of bench/dashboard.sh (every
*.json in it). For each benchmark in both, prints real time, CPU time and
every counter, old and new, with the ratio new/old. Benchmarks found in only
one run are listed after the table. Standard library only: Debian's
/usr/share/benchmark/compare.py needs scipy and leaves user counters out.

Exits 2, naming the file, when an input is missing or is not Google
Benchmark JSON.
"""

import json
import os
import sys

# Keys of a run that are not counters (Google Benchmark's JSON reporter).
NOT_COUNTERS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time",
    "cpu_time", "time_unit", "aggregate_name", "aggregate_unit", "error_occurred",
    "error_message", "label", "big_o", "rms", "complexity", "skipped",
}
NANOSECONDS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


class BadInput(Exception):
    """An input that is not what compare.py reads; the message names it."""


def load_file(path):
    """Returns {benchmark name: {metric: value}} for one JSON file."""
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except OSError as error:
        raise BadInput(f"{path}: cannot read: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: not JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("benchmarks"), list):
        raise BadInput(f"{path}: not Google Benchmark JSON (no 'benchmarks' list)")
    runs = {}
    for run in document["benchmarks"]:
        if not isinstance(run, dict) or not isinstance(run.get("name"), str):
            raise BadInput(f"{path}: a benchmark entry without a name")
        if run.get("error_occurred"):
            runs[run["name"]] = None
            continue
        runs[run["name"]] = metrics_of(run, path)
    return runs


def metrics_of(run, path):
    """Real and CPU time in nanoseconds, then the counters, of one run."""
    metrics = {}
    unit = run.get("time_unit", "ns")
    if unit not in NANOSECONDS:
        raise BadInput(f"{path}: {run['name']}: unknown time_unit {unit!r}")
    for key in ("real_time", "cpu_time"):
        if isinstance(run.get(key), (int, float)):
            metrics[key + "_ns"] = run[key] * NANOSECONDS[unit]
    for key, value in run.items():
        if key not in NOT_COUNTERS and isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[key] = float(value)
    return metrics


def load(path):
    """A JSON file, or every *.json of a run directory (names prefixed by the file)."""
    if not os.path.isdir(path):
        return load_file(path)
    files = sorted(name for name in os.listdir(path) if name.endswith(".json"))
    if not files:
        raise BadInput(f"{path}: a directory with no .json files")
    runs = {}
    for name in files:
        for benchmark, metrics in load_file(os.path.join(path, name)).items():
            runs[f"{name[:-5]}:{benchmark}"] = metrics
    return runs


def number(value):
    return f"{value:.6g}"


def table(old, new):
    """The comparison as lines of text."""
    rows = [("benchmark", "metric", "old", "new", "new/old")]
    for name in (name for name in old if name in new):
        if old[name] is None or new[name] is None:
            rows.append((name, "error", "error" if old[name] is None else "ok",
                         "error" if new[name] is None else "ok", ""))
            continue
        first = True
        for metric in old[name]:
            if metric not in new[name]:
                continue
            before, after = old[name][metric], new[name][metric]
            ratio = f"{after / before:.3f}" if before else ("-" if after == 0 else "inf")
            rows.append((name if first else "", metric, number(before), number(after), ratio))
            first = False
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i])
                       for i, cell in enumerate(row)).rstrip() for row in rows]
    for label, these, others in (("OLD", old, new), ("NEW", new, old)):
        only = [name for name in these if name not in others]
        if only:
            lines.append(f"only in {label}: " + ", ".join(only))
    return lines


def main(argv):
    if len(argv) != 3 or argv[1].startswith("-"):
        print("usage: bench/compare.py OLD NEW  (Google Benchmark JSON files or run directories)",
              file=sys.stderr)
        return 2
    try:
        old, new = load(argv[1]), load(argv[2])
    except BadInput as error:
        print(f"compare.py: {error}", file=sys.stderr)
        return 2
    if not any(name in new for name in old):
        print(f"compare.py: {argv[1]} and {argv[2]} have no benchmark in common", file=sys.stderr)
        return 2
    print("\n".join(table(old, new)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
