"""What the side-by-side benchmarks share (side_by_side.py, replay_vs_segment.py): their
common options, the `tierbook` command of this install, one timed process and the medians
of several."""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_segment import AS_OF  # benchmarks/ is this script's folder


def parser(doc: str, accounts: int, rounds: int) -> argparse.ArgumentParser:
    """The options both take: --accounts (default ``accounts``), --seed, --rounds (default
    ``rounds``), --as-of, --cache, --tmp and --json; a script adds its own after these."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=accounts,
                    help=f"accounts of the generated portfolio (default {accounts:,})")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    ap.add_argument("--rounds", type=int, default=rounds, help=f"timed rounds (default {rounds})")
    ap.add_argument("--as-of", default=AS_OF)
    ap.add_argument("--cache", default=os.environ.get("TIERBOOK_BENCH_CACHE", "/tmp/tierbook-bench"),
                    help="folder for generated portfolios (default /tmp/tierbook-bench)")
    ap.add_argument("--tmp", help="folder for the stores and outputs (default: system temp)")
    ap.add_argument("--json", help="write every figure as JSON to this path")
    return ap


def tierbook_cli(script: str) -> str:
    """The `tierbook` console script beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).with_name("tierbook")
    found = str(beside) if beside.exists() else shutil.which("tierbook")
    if not found:
        sys.exit(f"{script}: no `tierbook` command; install tierbook first (pip install -e .)")
    return found


def run(cmd: list[str], log: Path, cwd: Path, script: str) -> dict[str, Any]:
    """Run ``cmd`` to completion: its wall time, peak RSS and CPU time.  Exits on failure."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        sys.exit(f"{script}: {' '.join(cmd)} exited {code}:\n{tail}")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
            "cpu_s": usage.ru_utime + usage.ru_stime}


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("wall_s", "peak_rss_mb", "cpu_s"):
        values = [r[key] for r in runs]
        out[key] = values
        out["median_" + key] = statistics.median(values)
    return out
