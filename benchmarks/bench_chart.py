"""What tiers.png costs a segment: the chart drawn from a segmented portfolio, in process.

    python benchmarks/bench_chart.py                    # 100,000 accounts (seed 7), 7 draws
    python benchmarks/bench_chart.py --accounts 10000 --draws 3 --json chart.json

The portfolio (`examples/generate.py`, cached like bench_segment.py's) is segmented once,
then `tier_chart_png` is timed: the first draw (which imports Pillow's drawing modules and
loads its font) and the median of the later ones (the bars drawn and written as PNG).
Pillow's import alone is timed in a fresh interpreter that has already imported what a
segment imports before its chart (polars, numpy), so only the chart's own modules count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_segment import AS_OF, DEFAULT_RULESET, portfolio  # benchmarks/ is this folder

IMPORT = (
    "import time, polars, numpy\n"
    "t = time.perf_counter()\n"
    "from PIL import Image, ImageDraw, ImageFont\n"
    "print(time.perf_counter() - t)\n"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--draws", type=int, default=7, help="timed draws after the first")
    ap.add_argument("--cache", default="/tmp/tierbook-bench", help="generated portfolios")
    ap.add_argument("--json", help="write the figures as JSON to this path")
    args = ap.parse_args(argv)

    from tierbook.commands.api import load
    from tierbook.commands.segment import segment
    from tierbook.report.chart import tier_chart_png

    path = portfolio(args.accounts, args.seed, Path(args.cache))
    ruleset = load(str(DEFAULT_RULESET))[0]
    result = segment(ruleset, str(path), as_of=dt.date.fromisoformat(AS_OF))
    draws = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.draws + 1):
            t0 = time.perf_counter()
            tier_chart_png(result, str(Path(tmp) / f"tiers-{i}.png"))
            draws.append(time.perf_counter() - t0)
    imports = [
        float(subprocess.run([sys.executable, "-c", IMPORT], check=True, capture_output=True,
                             text=True).stdout)
        for _ in range(3)
    ]
    doc = {
        "accounts": args.accounts,
        "first_draw_s": draws[0],
        "draw_s": draws[1:],
        "median_draw_s": statistics.median(draws[1:]) if args.draws else None,
        "import_s": imports,
        "median_import_s": statistics.median(imports),
    }
    print(f"{args.accounts:,} accounts: first tiers.png {doc['first_draw_s']:.3f} s, then "
          f"{doc['median_draw_s'] or 0:.3f} s (median of {args.draws}); Pillow's import "
          f"{doc['median_import_s']:.3f} s (median of 3, fresh interpreters)")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
