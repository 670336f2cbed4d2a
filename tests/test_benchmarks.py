"""The benchmark script runs against the code as it is (a small portfolio, the figures'
shape and the tier counts checked, never the speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def test_bench_segment_runs_stages_and_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_segment.py"),
                    "--sizes", "7000", "--engines", "native", "--skip-no-memo",
                    "--cache", str(tmp_path / "cache"), "--tmp", str(tmp_path),
                    "--json", str(out)], check=True, capture_output=True, text=True,
                   cwd=ROOT, timeout=300)
    [row] = json.loads(out.read_text())["results"]
    stages, e2e = row["stages"], row["end_to_end"]
    assert row["n"] == 7000 and stages["accounts"] == e2e["accounts"] == 7000
    assert e2e["evaluations"] == 1 and stages["classes"] == e2e["classes"] == stages["paths"]
    assert sum(e2e["tiers"].values()) == 7000 and stages["paths"] == e2e["paths"] > 0
    assert all(stages[k] > 0 for k in ("read_s", "evaluate_s", "store_s"))


def test_bench_dask_replay_checks_the_files_of_each_distributed_run(tmp_path: Path) -> None:
    import pytest

    pytest.importorskip("distributed")
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_dask_replay.py"),
                    "--accounts", "300", "--workers", "2", "--rounds", "1", "--engine",
                    "native", "--cache", str(tmp_path / "cache"), "--json", str(out)],
                   check=True, capture_output=True, text=True, cwd=ROOT, timeout=300)
    single, two = json.loads(out.read_text())["results"]
    assert (single["workers"], two["workers"]) == (0, 2)
    assert two["same_files"] and two["files_sha256"] == single["files_sha256"]
    assert len(two["worker_peak_mib"]) == 2 and single["wall_s"] > 0
