"""Benchmark `tierbook replay`: N accounts over 8 quarters of generated events.

    python benchmarks/bench_replay.py                 # 100,000 accounts (default)
    python benchmarks/bench_replay.py --accounts 10000 --engine native --json out.json

Portfolio and events come from examples/generate.py (seed 7), cached under
/tmp/tierbook-bench (or $TIERBOOK_BENCH_CACHE). Every quarter's decisions and traces go to
a fresh trace store, as `tierbook replay` does. Prints wall time, time per quarter,
accounts x quarters per second and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(n: int, seed: int, cache: Path) -> tuple[Path, Path]:
    cache.mkdir(parents=True, exist_ok=True)
    portfolio = cache / f"portfolio-{n}-{seed}.csv"
    events = cache / f"events-{n}-{seed}.csv"
    if not portfolio.exists() or not events.exists():
        subprocess.run([sys.executable, str(ROOT / "examples" / "generate.py"), "--accounts",
                        str(n), "--seed", str(seed), "--portfolio", str(portfolio),
                        "--events", str(events)], check=True)
    return portfolio, events


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--ruleset", default="cs-segmentation-model")
    ap.add_argument("--cache", default=os.environ.get("TIERBOOK_BENCH_CACHE", "/tmp/tierbook-bench"))
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)

    from tierbook.commands import api as commands

    portfolio, events = generate(args.accounts, args.seed, Path(args.cache))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = commands.replay(args.ruleset, str(portfolio), str(events),
                                 as_of=dt.date(2026, 10, 1), engine=args.engine,
                                 store_path=str(Path(tmp) / "t.sqlite"), out_dir=str(Path(tmp) / "out"),
                                 chart=True)
        wall = time.perf_counter() - start
    quarters = len(result.quarters)
    active = sum(sum(t["accounts"] for t in q.tiers.values()) for q in result.quarters)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"accounts": args.accounts, "quarters": quarters, "engine": result.engine,
               "wall_s": round(wall, 2), "per_quarter_s": round(wall / max(quarters, 1), 2),
               "account_quarters_per_s": round(active / wall), "peak_rss_mb": round(rss_mb),
               "moves": sum(len(q.moves) for q in result.quarters),
               "triggers": sum(len(q.triggers) for q in result.quarters)}
    for k, v in figures.items():
        print(f"{k:>24}: {v}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
