#!/usr/bin/env python3
"""compare.py's table from fixture JSON (testdata/): runs without torch or a GPU."""
import io
import os
import sys
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compare  # noqa: E402


class CompareTableTest(unittest.TestCase):
    def setUp(self):
        self.kiln, self.peer = compare.load_dir(os.path.join(HERE, "testdata"))

    def row(self, text: str, name: str) -> list[str]:
        for line in text.splitlines():
            if line.startswith(f"| {name} |"):
                return [cell.strip() for cell in line.strip("|").split("|")]
        self.fail(f"no row '{name}' in\n{text}")

    def test_every_backend_and_peer_mode_has_a_row(self):
        text = compare.table(self.kiln, self.peer)
        self.row(text, "kiln cpu")
        self.row(text, "kiln vulkan")
        self.row(text, "torch eager (cuda, f16)")
        self.row(text, "torch compile (cuda, f16)")

    def test_ratio_is_to_the_best_peer_decode(self):
        vulkan = self.row(compare.table(self.kiln, self.peer), "kiln vulkan")
        self.assertEqual(vulkan[2:], ["9000.0", "600.0", "1.667", "50.0 %", "2.50x"])

    def test_no_ratio_between_a_cpu_row_and_a_gpu_peer(self):
        cpu = self.row(compare.table(self.kiln, self.peer), "kiln cpu")
        self.assertEqual(cpu[-1], "-")

    def test_without_a_peer_there_is_no_ratio(self):
        cpu = self.row(compare.table(self.kiln, None, ["torch: skipped (no torch)"]), "kiln cpu")
        self.assertEqual(cpu[-1], "-")

    def test_skipped_runs_are_noted_below_the_table(self):
        text = compare.table(self.kiln, self.peer, ["kiln opencl: skipped (no device)"])
        self.assertTrue(text.endswith("\n\nkiln opencl: skipped (no device)"))

    def test_from_json_prints_the_table(self):
        out = io.StringIO()
        with redirect_stdout(out):
            self.assertEqual(compare.main(["--from-json", os.path.join(HERE, "testdata")]), 0)
        self.assertIn("| kiln vulkan | NVIDIA H100 |", out.getvalue())


if __name__ == "__main__":
    unittest.main()
