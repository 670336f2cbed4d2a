"""tierbook segment and the plain polars line side by side, on the same portfolio.

    python benchmarks/side_by_side.py                        # 100,000 accounts, 5 rounds
    python benchmarks/side_by_side.py --accounts 1000000 --rounds 2
    python benchmarks/side_by_side.py --portfolio FILE.csv   # a portfolio of your own
    python benchmarks/side_by_side.py --json figures.json    # also write every figure

Each round runs, alternating which goes first, `tierbook segment PORTFOLIO --as-of DATE
--out DIR --store S` through the CLI (a fresh store each round, every report file) and
`benchmarks/polars_line.py PORTFOLIO OUT --as-of DATE`, each as its own process: wall time
(time.perf_counter around the process), peak RSS and CPU time (the rusage os.wait4 returns
for that process, which takes in the processes it waited for).  Reported: the medians, and
the median of the per-round ratios tierbook / polars.  Then, once: the agreement check
(polars_line.py --check against the first round's accounts.csv), `tierbook --help` and
`tierbook validate` (median of 10), and the trace store's size per account after one
segment and what a second segment of the same unchanged portfolio into the same store adds.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import common  # benchmarks/ is this script's folder
from bench_segment import portfolio
from common import summary

ROOT = Path(__file__).resolve().parents[1]
POLARS_LINE = ROOT / "benchmarks" / "polars_line.py"
RULESET = ROOT / "rulesets" / "cs-segmentation-model.yaml"


def run(cmd: list[str], log: Path, cwd: Path) -> dict[str, Any]:
    """Run ``cmd`` to completion: its wall time, peak RSS and CPU time.  Exits on failure."""
    return common.run(cmd, log, cwd, "side_by_side")


def size(path: Path) -> int:
    """Bytes of an SQLite store with whatever journal files sit beside it."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main(argv: list[str] | None = None) -> int:
    ap = common.parser(__doc__, accounts=100_000, rounds=5)
    ap.add_argument("--portfolio", help="use this portfolio CSV instead of generating one")
    args = ap.parse_args(argv)

    if args.portfolio:
        path = Path(args.portfolio).resolve()
        with open(path, "rb") as fh:
            n = sum(1 for _ in fh) - 1
    else:
        path, n = portfolio(args.accounts, args.seed, Path(args.cache)).resolve(), args.accounts
    tierbook = common.tierbook_cli("side_by_side")
    rounds = max(1, args.rounds)
    tb_runs: list[dict[str, Any]] = []
    pl_runs: list[dict[str, Any]] = []
    store_bytes: list[int] = []
    doc: dict[str, Any] = {
        "accounts": n, "portfolio": str(path), "generated": not args.portfolio,
        "seed": None if args.portfolio else args.seed, "as_of": args.as_of, "rounds": rounds,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpus": os.cpu_count()}

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp_name:
        tmp = Path(tmp_name)

        def segment(store: Path, out: Path, log: str) -> dict[str, Any]:
            return run([tierbook, "segment", str(path), "--as-of", args.as_of, "--out", str(out),
                        "--store", str(store)], tmp / log, tmp)

        def polars_line(out: Path, *extra: str) -> dict[str, Any]:
            return run([sys.executable, str(POLARS_LINE), str(path), str(out), "--as-of",
                        args.as_of, *extra], tmp / "polars.log", tmp)

        first_store, first_out = tmp / "store-0" / "traces.sqlite", tmp / "tierbook-0"
        for i in range(rounds):
            store, out = tmp / f"store-{i}" / "traces.sqlite", tmp / f"tierbook-{i}"
            store.parent.mkdir()
            for who in (("tierbook", "polars") if i % 2 == 0 else ("polars", "tierbook")):
                print(f"round {i + 1}/{rounds}: {who} ...", end="", file=sys.stderr, flush=True)
                if who == "tierbook":
                    r = segment(store, out, "tierbook.log")
                    tb_runs.append(r)
                    store_bytes.append(size(store))
                else:
                    r = polars_line(tmp / "polars.csv")
                    pl_runs.append(r)
                print(f" {r['wall_s']:.2f} s, {r['peak_rss_mb']:,.0f} MB", file=sys.stderr)
            if i > 0:  # keep the first round's store and report; the rest take room (1M: GB)
                shutil.rmtree(store.parent)
                shutil.rmtree(out)

        # the agreement check, once, against the first round's accounts.csv
        check = subprocess.run([sys.executable, str(POLARS_LINE), str(path), str(tmp / "check.csv"),
                                "--as-of", args.as_of, "--check", str(first_out / "accounts.csv")],
                               check=False, capture_output=True, text=True, cwd=tmp)
        message = (check.stdout + check.stderr).strip().replace(str(first_out / "accounts.csv"), "round 1's accounts.csv")
        doc["agreement"] = {"agree": check.returncode == 0, "message": message}

        # a second segment of the same, unchanged portfolio into the first round's store
        second = segment(first_store, tmp / "tierbook-second", "second.log")
        doc["store"] = {
            "bytes_after_first": store_bytes[0],
            "bytes_per_account_first": store_bytes[0] / n,
            "bytes_after_second": size(first_store),
            "added_bytes_per_account_second": (size(first_store) - store_bytes[0]) / n,
            "second_segment_wall_s": second["wall_s"],
        }

        quick = {}
        for name, cmd in (("help", [tierbook, "--help"]),
                          ("validate", [tierbook, "validate", str(RULESET)])):
            walls = [run(cmd, tmp / f"{name}.log", tmp)["wall_s"] for _ in range(10)]
            quick[name] = {"wall_s": walls, "median_wall_s": statistics.median(walls)}

    ratios = [t["wall_s"] / p["wall_s"] for t, p in zip(tb_runs, pl_runs)]
    rss_ratios = [t["peak_rss_mb"] / p["peak_rss_mb"] for t, p in zip(tb_runs, pl_runs)]
    doc["tierbook"] = summary(tb_runs)
    doc["polars"] = summary(pl_runs)
    doc["ratio"] = {"wall_per_round": ratios, "median_wall": statistics.median(ratios),
                    "peak_rss_per_round": rss_ratios, "median_peak_rss": statistics.median(rss_ratios)}
    doc["tierbook_help"] = quick["help"]
    doc["tierbook_validate"] = quick["validate"]

    tb, pl, st = doc["tierbook"], doc["polars"], doc["store"]
    print(f"\n{n:,} accounts ({'seed ' + str(args.seed) if not args.portfolio else path.name}), "
          f"{rounds} round{'s' * (rounds != 1)}, as of {args.as_of}; medians:")
    print(f"  {'':<18}{'wall s':>9}{'peak RSS MB':>13}{'CPU s':>8}")
    for label, s in (("tierbook segment", tb), ("polars line", pl)):
        print(f"  {label:<18}{s['median_wall_s']:>9.2f}{s['median_peak_rss_mb']:>13,.0f}"
              f"{s['median_cpu_s']:>8.2f}")
    print(f"  tierbook / polars: {doc['ratio']['median_wall']:.1f}x wall, "
          f"{doc['ratio']['median_peak_rss']:.1f}x peak RSS (medians of the per-round ratios)")
    print(f"  agreement: {doc['agreement']['message']}")
    print(f"  tierbook --help {quick['help']['median_wall_s']:.3f} s, validate "
          f"{quick['validate']['median_wall_s']:.3f} s (median of 10)")
    print(f"  trace store: {st['bytes_per_account_first']:,.0f} bytes/account after one segment, "
          f"+{st['added_bytes_per_account_second']:,.0f} bytes/account after a second of the "
          f"same portfolio")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0 if doc["agreement"]["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
