"""Time `read_events` on a replay's events file: this install's reader against the per-row
loop it replaced (tests/events_reference.py), alternating in one process.

    python benchmarks/bench_events_read.py                  # 100,000 accounts' events
    python benchmarks/bench_events_read.py --rounds 7 --json out.json

The events come from examples/generate.py (seed 7), cached under /tmp/tierbook-bench (or
$TIERBOOK_BENCH_CACHE), as bench_replay.py makes them.  Each reader is timed with the
interpreter's default collector thresholds and with those the replay runs under
(``commands.heap.fewer_collections``: reading builds one ``Event`` per line, none of them
garbage, and the collector's full passes walk them all).  Prints the median and the best
of the rounds and checks that both readers give the same events.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.util
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench_replay import ROOT, generate  # benchmarks/ is this script's folder


def _reference() -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location(
        "events_reference", ROOT / "tests" / "events_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.read_events


@contextlib.contextmanager
def _collector(mode: str) -> Iterator[None]:
    if mode == "default":
        before = gc.get_threshold()
        gc.set_threshold(700, 10, 10)
        try:
            yield
        finally:
            gc.set_threshold(*before)
    else:
        from tierbook.commands.heap import fewer_collections

        with fewer_collections():
            yield


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--cache", default=os.environ.get("TIERBOOK_BENCH_CACHE", "/tmp/tierbook-bench")
    )
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)

    from tierbook.portfolio.events import read_events

    _, events = generate(args.accounts, args.seed, Path(args.cache))
    readers = {"before": _reference(), "now": read_events}
    same = repr(readers["before"](str(events))) == repr(read_events(str(events)))
    times: dict[str, dict[str, list[float]]] = {
        mode: {name: [] for name in readers} for mode in ("default", "replay")
    }
    count = 0
    for _ in range(args.rounds):
        for mode, by_reader in times.items():
            for name, read in readers.items():
                gc.collect()
                with _collector(mode):
                    start = time.perf_counter()
                    found, _ = read(str(events))
                    by_reader[name].append(time.perf_counter() - start)
                count = len(found)
                del found
    figures = {
        "events_file": str(events),
        "events": count,
        "same_events": same,
        "rounds": args.rounds,
        "seconds": {
            mode: {
                name: {
                    "median": round(statistics.median(t), 3),
                    "best": round(min(t), 3),
                    "all": [round(x, 3) for x in t],
                }
                for name, t in by_reader.items()
            }
            for mode, by_reader in times.items()
        },
    }
    print(f"{count:,} events from {events}; the same from both readers: {same}")
    for mode, by_reader in figures["seconds"].items():
        for name, t in by_reader.items():
            print(
                f"  {mode:>8} collector  {name:>6}: median {t['median']:.3f} s, best {t['best']:.3f} s"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    if not same:
        sys.exit("the readers disagree")


if __name__ == "__main__":
    main()
