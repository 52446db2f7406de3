"""bench/cold_compare.py (run_go_compare.sh's bookkeeping): a cold-start
benchmark's figures become result lines, a run that was not cold or did not
run is refused with the file named, and the summary gives medians and ratios."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

COLD_COMPARE = os.path.abspath(sys.argv[1])


def run(*args):
    return subprocess.run([sys.executable, COLD_COMPARE, *args], capture_output=True, text=True)


class ColdCompareTest(unittest.TestCase):
    def setUp(self):
        self.directory = tempfile.TemporaryDirectory()
        self.addCleanup(self.directory.cleanup)

    def write(self, name, text):
        path = os.path.join(self.directory.name, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def benchmark_json(self, *benchmarks):
        return self.write("out.json", json.dumps({"context": {}, "benchmarks": list(benchmarks)}))

    def test_counters_of_one_cold_run(self):
        path = self.benchmark_json({
            "name": "BM_IdleTasksColdStart/tasks:100000/iterations:1/manual_time",
            "create_ns_per_task": 24343.0, "rss_bytes_per_task": 4647.28,
            "peak_rss_MiB": 448.5, "tasks": 100000.0, "real_time": 2434.0})
        result = run("counters", "idle100k", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split("\n")[:3], [
            "idle100k evergreen create_ns_per_task 24343.0",
            "idle100k evergreen rss_bytes_per_task 4647.28",
            "idle100k evergreen peak_rss_MiB 448.5"])
        self.assertNotIn("tasks 100000", result.stdout)

    def test_a_run_that_was_not_first_in_its_process_is_refused(self):
        path = self.benchmark_json({
            "name": "BM_TimersColdStart/tasks:100000/iterations:1", "error_occurred": True,
            "error_message": "not a fresh process: run it alone"})
        result = run("counters", "timers", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(path, result.stderr)
        self.assertIn("not a fresh process", result.stderr)
        self.assertEqual(result.stdout, "")

    def test_more_than_one_benchmark_is_refused(self):
        path = self.benchmark_json({"name": "BM_A", "cold_wall_ms": 1.0},
                                   {"name": "BM_B", "cold_wall_ms": 2.0})
        result = run("counters", "timers", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn("expected one benchmark, found 2", result.stderr)

    def test_a_file_that_is_not_json_is_named(self):
        path = self.write("out.json", "")  # the binary crashed before writing
        result = run("counters", "timers", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(path, result.stderr)

    def test_summary_gives_medians_and_ratio(self):
        path = self.write("results", "".join(
            f"timers evergreen cold_wall_ms {v}\n" for v in (300, 100, 200, 900, 250)) + "".join(
            f"timers go cold_wall_ms {v}\n" for v in (500, 400, 600, 450, 550)) +
            "timers evergreen only_ours 1\n")
        result = run("summary", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split() for line in result.stdout.splitlines()[1:]]
        self.assertEqual(len(rows), 1, result.stdout)  # only_ours has no Go figure
        self.assertEqual(rows[0][:5], ["timers", "cold_wall_ms", "250.0", "500.0", "0.50"])
        self.assertIn("300 100 200 900 250 | 500 400 600 450 550", result.stdout)

    def test_summary_refuses_a_malformed_line(self):
        path = self.write("results", "timers go cold_wall_ms\n")
        result = run("summary", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{path}:1", result.stderr)

    def test_summary_with_nothing_on_both_sides_fails(self):
        path = self.write("results", "timers go cold_wall_ms 5\n")
        result = run("summary", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no figure measured on both sides", result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
