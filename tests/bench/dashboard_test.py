"""bench/dashboard.py on two small runs: one bar chart and one history chart
per family, evergreen beside its peers, and nothing loaded from outside."""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

DASHBOARD = os.path.abspath(sys.argv[1])


def write_run(outdir, run, binaries):
    os.makedirs(os.path.join(outdir, run))
    for binary, benchmarks in binaries.items():
        with open(os.path.join(outdir, run, binary + ".json"), "w") as file:
            json.dump({"context": {"commit": run.split("-")[1], "build_flags": "-c opt",
                                   "library_build_type": "debug"},
                       "benchmarks": benchmarks}, file)


def benchmark(name, **counters):
    return {"name": name, "run_type": "iteration", "iterations": 10, "real_time": 5.0,
            "cpu_time": 4.0, "time_unit": "ns", **counters}


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.outdir = tempfile.mkdtemp()
        for run, factor in (("20260101T000000Z-aaaa111", 1.0), ("20260102T000000Z-bbbb222", 2.0)):
            write_run(cls.outdir, run, {
                "task_yield": [benchmark("BM_TaskYield", seconds_per_yield=25e-9 * factor)],
                "loop_boost": [benchmark("BM_BoostFiberYield", seconds_per_yield=60e-9)],
                "lock_contention": [benchmark("BM_LockContention", seconds_per_acquire=3e-8)],
            })
        os.makedirs(os.path.join(cls.outdir, "not-a-run"))  # no JSON: ignored
        result = subprocess.run([sys.executable, DASHBOARD, cls.outdir], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
        with open(os.path.join(cls.outdir, "index.html"), encoding="utf-8") as file:
            cls.page = file.read()

    def charts(self, kind):
        return re.findall(r'<svg class="chart %s" data-family="([^"]*)"' % kind, self.page)

    def test_one_bar_and_one_history_chart_per_family(self):
        self.assertEqual(self.charts("bar"), ["Yield to the loop",
                                              "lock_contention: BM_LockContention"])
        self.assertEqual(self.charts("history"), self.charts("bar"))

    def test_peers_share_the_family_chart(self):
        section = self.page.split('data-family="Yield to the loop"')[1].split("</svg>")[0]
        self.assertIn("evergreen: BM_TaskYield", section)
        self.assertIn("Boost: BM_BoostFiberYield", section)
        self.assertIn("50 ns", section)  # the newest run's 50e-9 s, shown in ns

    def test_history_has_a_point_per_run(self):
        section = self.page.split('class="chart history" data-family="Yield to the loop"')[1]
        section = section.split("</svg>")[0]
        self.assertEqual(section.count("evergreen: BM_TaskYield in "), 2)

    def test_context_and_debug_note(self):
        self.assertIn("bbbb222", self.page)
        self.assertIn("NDEBUG", self.page)

    def test_self_contained(self):
        self.assertNotRegex(self.page, r'(src|href)=')
        self.assertNotIn("<script", self.page)

    def test_empty_directory_is_an_error(self):
        empty = tempfile.mkdtemp()
        result = subprocess.run([sys.executable, DASHBOARD, empty], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn(empty, result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
