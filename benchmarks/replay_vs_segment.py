"""`tierbook replay` of a portfolio over 8 quarters beside one `tierbook segment` of it.

    python benchmarks/replay_vs_segment.py                          # 20,000 accounts, 3 rounds
    python benchmarks/replay_vs_segment.py --accounts 100000 --rounds 1
    python benchmarks/replay_vs_segment.py --ruleset rulesets/keep-segment.yaml --json out.json

The portfolio and its 8 quarters of events come from examples/generate.py (seed 7, cached
as bench_replay.py caches them).  Each round runs, alternating which goes first, `tierbook
segment PORTFOLIO --as-of DATE --out DIR --store S` and `tierbook replay PORTFOLIO EVENTS
--as-of DATE --out DIR --store S` through the CLI, each as its own process with a fresh
store and every report file: wall time, peak RSS and CPU time (common.run).
Reported: the medians, and the median of the per-round ratios replay / segment, of the
wall times (the issue's target: a replay of 8 quarters at most 8x one segment) and of the
CPU times (steadier on a machine other work keeps busy).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import common  # benchmarks/ is this script's folder
from bench_replay import generate
from common import summary

ROOT = Path(__file__).resolve().parents[1]
RULESET = ROOT / "rulesets" / "cs-segmentation-model.yaml"


def main(argv: list[str] | None = None) -> int:
    ap = common.parser(__doc__, accounts=20_000, rounds=3)
    ap.add_argument("--ruleset", default=str(RULESET), help="ruleset file (default: the default)")
    ap.add_argument("--engine", default="auto", help="--engine of both commands (default auto)")
    args = ap.parse_args(argv)

    portfolio, events = generate(args.accounts, args.seed, Path(args.cache))
    tierbook = common.tierbook_cli("replay_vs_segment")
    rounds = max(1, args.rounds)
    seg_runs: list[dict[str, Any]] = []
    rep_runs: list[dict[str, Any]] = []
    both = ["--as-of", args.as_of, "--engine", args.engine]
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp_name:
        tmp = Path(tmp_name)

        def segment(k: int) -> dict[str, Any]:
            return common.run([tierbook, "segment", args.ruleset, str(portfolio), *both,
                        "--out", str(tmp / f"seg{k}"), "--store", str(tmp / f"seg{k}.sqlite")],
                       tmp / "segment.log", tmp, "replay_vs_segment")

        def replay(k: int) -> dict[str, Any]:
            return common.run([tierbook, "replay", args.ruleset, str(portfolio), str(events), *both,
                        "--out", str(tmp / f"rep{k}"), "--store", str(tmp / f"rep{k}.sqlite")],
                       tmp / "replay.log", tmp, "replay_vs_segment")

        for k in range(rounds):
            if k % 2 == 0:
                seg_runs.append(segment(k))
                rep_runs.append(replay(k))
            else:
                rep_runs.append(replay(k))
                seg_runs.append(segment(k))
            print(f"round {k + 1}: segment {seg_runs[-1]['wall_s']:.2f} s, "
                  f"replay {rep_runs[-1]['wall_s']:.2f} s", file=sys.stderr)
        quarters = len(json.loads((tmp / "rep0" / "replay.json").read_text())["quarters"])
    ratios = [r["wall_s"] / s["wall_s"] for r, s in zip(rep_runs, seg_runs)]
    cpu_ratios = [r["cpu_s"] / s["cpu_s"] for r, s in zip(rep_runs, seg_runs)]
    doc: dict[str, Any] = {
        "accounts": args.accounts, "seed": args.seed, "ruleset": Path(args.ruleset).name,
        "engine": args.engine, "as_of": args.as_of, "rounds": rounds, "quarters": quarters,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count(), "segment": summary(seg_runs), "replay": summary(rep_runs),
        "ratio": {"per_round": ratios, "median_wall": statistics.median(ratios),
                  "per_round_cpu": cpu_ratios, "median_cpu": statistics.median(cpu_ratios)}}
    print(f"accounts {args.accounts:,}, {quarters} quarters, {Path(args.ruleset).name}, "
          f"{rounds} round(s)")
    for name in ("segment", "replay"):
        s = doc[name]
        print(f"{name:>8}: {s['median_wall_s']:.2f} s wall, {s['median_cpu_s']:.2f} s CPU, "
              f"{s['median_peak_rss_mb']:.0f} MiB")
    print(f"replay / segment: {doc['ratio']['median_wall']:.1f}x wall, "
          f"{doc['ratio']['median_cpu']:.1f}x CPU (target 8x)")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
