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


def test_startup_times_help_validate_and_the_floor(tmp_path: Path) -> None:
    out = tmp_path / "startup.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "startup.py"), "--runs", "1",
                    "--bytecode", "cached", "--json", str(out)],
                   check=True, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    doc = json.loads(out.read_text())
    found = doc["modes"]["cached"]
    assert set(found) == {"help", "validate"} and set(found["validate"]) == {"this", "floor"}
    assert all(len(r["wall_s"]) == 1 and r["median_cpu_s"] > 0
               for rows in found.values() for r in rows.values())


def test_bench_chart_times_the_first_and_later_draws(tmp_path: Path) -> None:
    out = tmp_path / "chart.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_chart.py"), "--accounts",
                    "2000", "--draws", "1", "--cache", str(tmp_path / "cache"), "--json", str(out)],
                   check=True, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    doc = json.loads(out.read_text())
    assert doc["accounts"] == 2000 and len(doc["draw_s"]) == 1 and doc["first_draw_s"] > 0
    assert len(doc["import_s"]) == 3


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


def test_replay_vs_segment_times_both_commands_alternating(tmp_path: Path) -> None:
    out = tmp_path / "replay-vs-segment.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "replay_vs_segment.py"),
                    "--accounts", "300", "--rounds", "2", "--engine", "native",
                    "--cache", str(tmp_path / "cache"), "--tmp", str(tmp_path),
                    "--json", str(out)], check=True, capture_output=True, text=True,
                   cwd=ROOT, timeout=300)
    doc = json.loads(out.read_text())
    assert doc["accounts"] == 300 and doc["rounds"] == 2 and doc["quarters"] == 8
    assert len(doc["segment"]["wall_s"]) == len(doc["replay"]["wall_s"]) == 2
    assert len(doc["ratio"]["per_round"]) == 2 and doc["ratio"]["median_wall"] > 0
    assert len(doc["ratio"]["per_round_cpu"]) == 2 and doc["ratio"]["median_cpu"] > 0


def test_bench_events_read_times_both_readers_on_the_same_events(tmp_path: Path) -> None:
    out = tmp_path / "events.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_events_read.py"),
                    "--accounts", "300", "--rounds", "1", "--cache", str(tmp_path / "cache"),
                    "--json", str(out)], check=True, capture_output=True, text=True,
                   cwd=tmp_path, timeout=300)
    doc = json.loads(out.read_text())
    assert doc["same_events"] and doc["events"] > 0
    assert set(doc["seconds"]) == {"default", "replay"}
    assert all(set(t) == {"before", "now"} for t in doc["seconds"].values())
