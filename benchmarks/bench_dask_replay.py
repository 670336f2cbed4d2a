"""Benchmark `replay --scheduler`: a replay of N accounts x 8 quarters in one process
against 1 and 2 Dask worker processes, side by side (the configurations alternate, round
after round).

    python benchmarks/bench_dask_replay.py                        # 20,000 accounts
    python benchmarks/bench_dask_replay.py --accounts 100000 --rounds 1 --json out.json

Portfolio and events come from examples/generate.py (seed 7), cached under
/tmp/tierbook-bench (or $TIERBOOK_BENCH_CACHE).  What is timed is the whole replay as
`tierbook replay` runs it (every quarter's run in a fresh trace store, every report file
with the charts); the LocalCluster is started before the clock.  Each run is in a process
of its own (its peak RSS its own), and every distributed run is checked to write the very
files the single-process run writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_replay import generate  # noqa: E402


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(args: argparse.Namespace) -> None:
    """One configuration in this process: 0 = no Dask, else that many workers."""
    from tierbook.commands import api

    portfolio, events = generate(args.accounts, 7, Path(args.cache))
    row: dict[str, Any] = {"workers": args.one}
    with tempfile.TemporaryDirectory() as tmp:
        kwargs: dict[str, Any] = {
            "as_of": dt.date(2026, 10, 1), "engine": args.engine,
            "store_path": str(Path(tmp) / "t.sqlite"), "out_dir": str(Path(tmp) / "out"),
        }
        if args.one:
            import distributed

            started = time.perf_counter()
            cluster = distributed.LocalCluster(n_workers=args.one, threads_per_worker=1,
                                               processes=True, dashboard_address=":0",
                                               silence_logs=40)
            row["cluster_start_s"] = round(time.perf_counter() - started, 2)
            kwargs["scheduler"] = cluster.scheduler_address
        start = time.perf_counter()
        api.replay(args.ruleset, str(portfolio), str(events), **kwargs)
        row["wall_s"] = round(time.perf_counter() - start, 2)
        if args.one:
            with distributed.Client(cluster) as client:
                peaks = client.run(
                    lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            row["worker_peak_mib"] = sorted(round(v) for v in peaks.values())
            cluster.close()
        out = Path(tmp) / "out"
        digest = hashlib.sha256()
        for p in sorted(out.iterdir()):
            digest.update(p.name.encode() + b"\0" + p.read_bytes())
        row["files_sha256"] = digest.hexdigest()
    row["driver_peak_mib"] = round(_peak_mib())
    print(json.dumps(row), flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--ruleset", default="cs-segmentation-model")
    ap.add_argument("--cache", default=os.environ.get("TIERBOOK_BENCH_CACHE",
                                                      "/tmp/tierbook-bench"))
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one is not None:
        return one(args)
    generate(args.accounts, 7, Path(args.cache))
    print(f"{args.accounts:,} accounts x 8 quarters, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    results: list[dict[str, Any]] = []
    for r in range(args.rounds):
        single: dict[str, Any] = {}
        for n in [0, *args.workers]:
            out = subprocess.run([sys.executable, __file__, "--one", str(n), "--accounts",
                                  str(args.accounts), "--engine", args.engine, "--ruleset",
                                  args.ruleset, "--cache", args.cache],
                                 check=True, capture_output=True, text=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["round"] = r + 1
            row["load"] = round(os.getloadavg()[0], 1)
            if n:
                row["vs_single"] = round(row["wall_s"] / single["wall_s"], 2)
                row["same_files"] = row["files_sha256"] == single["files_sha256"]
                assert row["same_files"], "a file differs from the single-process run's"
            else:
                single = row
            print(json.dumps(row), flush=True)
            results.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps({"accounts": args.accounts, "quarters": 8,
                                               "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
