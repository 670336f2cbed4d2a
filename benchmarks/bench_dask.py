"""Benchmark `segment --scheduler`: the read and evaluation on 1, 2 and 4 Dask worker
processes against the same stage in one process, on generated portfolios.

    python benchmarks/bench_dask.py                          # 1,000,000 accounts
    python benchmarks/bench_dask.py --accounts 5000000 --workers 1 2
    python benchmarks/bench_dask.py --accounts 20000 --json out.json

The stage timed is what the cluster takes over: read and cast, values, bands, condition
codes and classes, the executor once per class, the path ids joined back (what follows it,
calibration, gates, report files and the store, is the same code on the driver either way).
The portfolio comes from examples/generate.py (seed 7), cached under /tmp/tierbook-bench
(or $TIERBOOK_BENCH_CACHE).  Every distributed run is checked to give every account the tier
and path the single-process run gives it.  Prints, per run: wall time, the cluster's start,
peak RSS of the driver and of each worker, what the driver gathered, and the classes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 10, 1)


def generate(n: int, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"portfolio-{n}-seed7.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "examples" / "generate.py"), "--accounts",
                        str(n), "--seed", "7", "--portfolio", str(path)], check=True)
    return path


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single(ruleset: Any, path: Path, engine: str) -> tuple[dict[str, Any], Any]:
    from tierbook.commands.segment import set_aside_unplaceable
    from tierbook.evaluate.run import evaluate
    from tierbook.evaluate.values import with_values
    from tierbook.portfolio.frame import read_portfolio

    start = time.perf_counter()
    portfolio = read_portfolio(str(path), ruleset)
    frame = set_aside_unplaceable(
        ruleset, portfolio, with_values(ruleset, portfolio.frame, AS_OF), "fail"
    )
    ev = evaluate(ruleset, frame, AS_OF, engine=engine)
    wall = time.perf_counter() - start
    return {"workers": 0, "wall_s": round(wall, 2), "classes": len(ev.firsts),
            "driver_peak_mib": round(_peak_mib())}, ev


def distributed_run(ruleset: Any, path: Path, engine: str, workers: int) -> tuple[dict, Any]:
    import distributed
    from tierbook.commands.segment import set_aside_unplaceable
    from tierbook.distributed import run as dist

    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        up = time.perf_counter() - started
        start = time.perf_counter()
        portfolio, ev = dist.distributed_evaluation(
            ruleset, str(path), display=str(path), as_of=AS_OF, engine=engine,
            on_error="fail", memo=True, scheduler=cluster.scheduler_address,
            set_aside=set_aside_unplaceable)
        wall = time.perf_counter() - start
        peaks = client.run(
            lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    parts = len(dist.partitioned(str(path), str(path), workers * dist.SPLITS_PER_WORKER).parts)
    return {"workers": workers, "wall_s": round(wall, 2), "cluster_start_s": round(up, 2),
            "parts": parts, "classes": len(ev.firsts),
            "gathered_mib": round(ev.frame.estimated_size() / 2**20, 1),
            "worker_peak_mib": sorted(round(v) for v in peaks.values()),
            "driver_peak_mib": round(_peak_mib())}, ev


def _digest(ev: Any) -> str:
    import hashlib

    paths = ",".join(str(ev.firsts[p].path_id) for p in ev.path_ids())
    return hashlib.sha256(("|".join(ev.tiers()) + "#" + paths).encode()).hexdigest()


def one(args: argparse.Namespace) -> None:
    """One configuration in this process (its peak RSS its own)."""
    from tierbook.ruleset.build import load_ruleset

    ruleset = load_ruleset(str(ROOT / "rulesets" / "cs-segmentation-model.yaml"))
    path = generate(args.accounts, Path(args.cache))
    if args.one == 0:
        row, ev = single(ruleset, path, args.engine)
    else:
        row, ev = distributed_run(ruleset, path, args.engine, args.one)
    row["decisions_sha256"] = _digest(ev)
    print(json.dumps(row), flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--cache", default=os.environ.get("TIERBOOK_BENCH_CACHE",
                                                      "/tmp/tierbook-bench"))
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        return one(args)
    path = generate(args.accounts, Path(args.cache))
    size = path.stat().st_size
    print(f"{args.accounts:,} accounts, {size / 2**20:.0f} MiB CSV, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    results: list[dict[str, Any]] = []
    for n in [0, *args.workers]:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--accounts",
                              str(args.accounts), "--engine", args.engine, "--cache",
                              args.cache], check=True, capture_output=True, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["load"] = round(os.getloadavg()[0], 1)
        if n:
            row["overhead_vs_single"] = round(row["wall_s"] / results[0]["wall_s"], 2)
            row["same_tiers_and_paths"] = row["decisions_sha256"] == results[0]["decisions_sha256"]
            assert row["same_tiers_and_paths"], "a tier or path differs from the single run"
        print(json.dumps(row), flush=True)
        results.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps({"accounts": args.accounts, "csv_bytes": size,
                                               "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
