"""bench/compare.py on small fixtures: ratios of times and user counters,
and a clear error naming the file for bad input."""

import os
import subprocess
import sys
import tempfile
import unittest

COMPARE = os.path.abspath(sys.argv[1])
TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata")


def compare(*paths):
    return subprocess.run([sys.executable, COMPARE, *paths], capture_output=True, text=True)


def row(output, metric):
    """The cells of the first table row for `metric`."""
    for line in output.splitlines():
        cells = line.split()
        if metric in cells:
            return cells[cells.index(metric):]
    raise AssertionError(f"no row for {metric} in:\n{output}")


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.result = compare(os.path.join(TESTDATA, "old.json"), os.path.join(TESTDATA, "new.json"))
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_times_are_compared_in_one_unit(self):
        # 50 ns beside 0.1 us, 1.5 s beside 1500 ms.
        self.assertEqual(row(self.result.stdout, "real_time_ns"), ["real_time_ns", "50", "100", "2.000"])
        lines = self.result.stdout.splitlines()
        timers = next(i for i, line in enumerate(lines) if line.startswith("BM_Timers"))
        self.assertIn("1.000", lines[timers])

    def test_user_counters_are_compared(self):
        self.assertEqual(row(self.result.stdout, "seconds_per_yield"),
                         ["seconds_per_yield", "2.5e-08", "5e-08", "2.000"])
        self.assertEqual(row(self.result.stdout, "warm_wall_ms"),
                         ["warm_wall_ms", "1295.31", "647.655", "0.500"])
        self.assertEqual(row(self.result.stdout, "peak_rss_MiB")[-1], "1.000")

    def test_iterations_are_not_a_counter(self):
        self.assertNotIn("iterations", self.result.stdout.split())

    def test_benchmarks_in_one_run_only_are_listed(self):
        self.assertIn("only in OLD: BM_Gone", self.result.stdout)
        self.assertIn("only in NEW: BM_New", self.result.stdout)


class BadInputTest(unittest.TestCase):
    def check_rejected(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            file.write(text)
        try:
            result = compare(os.path.join(TESTDATA, "old.json"), file.name)
            self.assertEqual(result.returncode, 2)
            self.assertIn(file.name, result.stderr)
            self.assertEqual(result.stdout, "")
        finally:
            os.unlink(file.name)

    def test_not_json(self):
        self.check_rejected("BM_TaskYield 50 ns")

    def test_json_without_benchmarks(self):
        self.check_rejected('{"context": {}}')

    def test_missing_file(self):
        result = compare("/nonexistent/old.json", os.path.join(TESTDATA, "new.json"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("/nonexistent/old.json: cannot read", result.stderr)

    def test_usage(self):
        self.assertEqual(compare(os.path.join(TESTDATA, "old.json")).returncode, 2)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
