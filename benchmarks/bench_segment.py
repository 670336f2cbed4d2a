"""Benchmark `tierbook segment`: throughput of each stage and end to end, and peak memory.

    python benchmarks/bench_segment.py                  # 10k and 100k accounts
    python benchmarks/bench_segment.py --million        # and 1,000,000
    python benchmarks/bench_segment.py --json out.json  # also write the figures as JSON
    python benchmarks/bench_segment.py --profile        # cProfile of the 100k end-to-end path

Portfolios come from the repository's generator (examples/generate.py, seed 7) and are
cached (default /tmp/tierbook-bench), so a second run only measures.  Every measurement
runs in a fresh Python process, so each peak RSS (ru_maxrss) is that measurement's own.

Two kinds of measurement:

stages      read -> values+bands -> evaluate -> store, timed one by one in one process:
            read         read_portfolio (CSV -> a frame of typed inputs)
            values+bands with_values (derived values, parts, scores) + resolve_bands
            evaluate     evaluate(..., bands=resolved) on that frame: condition columns,
                         classes, executor runs (one per class, or per account with
                         --no-memo), decoding and checking every account's trace
            store        TraceStore.write_run into a fresh SQLite trace store (runs, paths,
                         firings, accounts), as segment does once evaluated
end to end  what `tierbook segment --store` does, without the report files: read, evaluate,
            capacity calibration (each round re-evaluates with one boundary moved),
            quality gates, store.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "examples" / "generate.py"
DEFAULT_RULESET = ROOT / "rulesets" / "cs-segmentation-model.yaml"
AS_OF = "2026-10-01"
ENGINES = ("durable-rules", "native")


# --- portfolios ----------------------------------------------------------------------------

def portfolio(n: int, seed: int, cache: Path) -> Path:
    """The generator's portfolio of ``n`` accounts, generated once and cached."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"portfolio-{n}-seed{seed}.csv"
    if not path.exists():
        tmp = path.with_suffix(".csv.part")
        print(f"generating {n:,} accounts -> {path}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(GENERATOR), "--accounts", str(n), "--seed", str(seed),
                        "--portfolio", str(tmp)], check=True, stdout=subprocess.DEVNULL)
        tmp.replace(path)
    return path


# --- measurements (each runs in a child process) -------------------------------------------

def _peak_mb(who: str = "self") -> float:
    import resource
    kind = resource.RUSAGE_SELF if who == "self" else resource.RUSAGE_CHILDREN
    return resource.getrusage(kind).ru_maxrss / 1024  # KiB on Linux


def _stages(spec: dict[str, Any]) -> dict[str, Any]:
    import datetime as dt

    import tierbook.evaluate.run as E
    from tierbook.commands.api import load
    from tierbook.portfolio.frame import read_portfolio
    from tierbook.trace.store import TraceStore
    from tierbook.evaluate.values import with_values

    as_of = dt.date.fromisoformat(spec["as_of"])
    ruleset, text = load(spec["ruleset"])
    out: dict[str, Any] = {}

    t0 = time.perf_counter()
    pf = read_portfolio(spec["portfolio"], ruleset)
    t1 = time.perf_counter()
    out["read_s"] = t1 - t0

    frame = with_values(ruleset, pf.frame, as_of)
    bands = E.resolve_bands(ruleset, frame)
    t2 = time.perf_counter()
    out["values_bands_s"] = t2 - t1

    # evaluate() is handed the values just timed, so that this stage is the rest of
    # evaluation (class bits, executor runs, decoding, trace checks).
    runs = [0]
    real_make = E.make_executor

    def counting_executor(engine: str, network: Any, **kwargs: Any) -> Any:
        executor = real_make(engine, network, **kwargs)
        real_run = executor.run

        def run(bits: Any) -> Any:
            runs[0] += 1
            return real_run(bits)
        executor.run = run
        return executor

    E.make_executor = counting_executor  # type: ignore[assignment]
    try:
        t2 = time.perf_counter()
        ev = E.evaluate(ruleset, frame, as_of, engine=spec["engine"], memo=spec["memo"],
                        bands=bands)
        t3 = time.perf_counter()
    finally:
        E.make_executor = real_make  # type: ignore[assignment]
    out["evaluate_s"] = t3 - t2
    out["classes"] = len(ev.firsts) if spec["memo"] else None
    out["paths"] = len(ev.paths)
    out["executor_runs"] = runs[0]
    out["leaves"] = len(ev.network.leaves)
    out["rules"] = len(ev.network.rules)

    with tempfile.TemporaryDirectory(dir=spec.get("tmp")) as tmp:
        t4 = time.perf_counter()
        store = TraceStore(Path(tmp) / "traces.sqlite")
        try:
            store.write_run(ev, ruleset_text=text, input_file=pf.file, input_sha256=pf.sha256,
                            command="segment")
        finally:
            store.close()
        t5 = time.perf_counter()
        out["store_mb"] = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
    out["store_s"] = t5 - t4
    out["accounts"] = ev.frame.height
    out["peak_rss_mb"] = _peak_mb()
    out["children_peak_rss_mb"] = _peak_mb("children")
    return out


def _end_to_end(spec: dict[str, Any], profile: bool = False) -> dict[str, Any]:
    import datetime as dt

    import tierbook.commands.segment as S
    from tierbook.commands import api as commands

    as_of = dt.date.fromisoformat(spec["as_of"])
    calls = {"n": 0, "s": 0.0}
    real_evaluate = S.evaluate

    def timed_evaluate(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return real_evaluate(*args, **kwargs)
        finally:
            calls["n"] += 1
            calls["s"] += time.perf_counter() - t
    S.evaluate = timed_evaluate  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory(dir=spec.get("tmp")) as tmp:
            store_path = str(Path(tmp) / "traces.sqlite")

            def go() -> Any:
                return commands.segment(spec["ruleset"], spec["portfolio"], as_of=as_of,
                                        engine=spec["engine"], store_path=store_path,
                                        memo=spec["memo"], out_dir=None, chart=False)
            t0 = time.perf_counter()
            if profile:
                import cProfile
                import pstats
                prof = cProfile.Profile()
                result = prof.runcall(go)
                t1 = time.perf_counter()
                stats = pstats.Stats(prof, stream=sys.stderr)
                stats.sort_stats("cumulative").print_stats(25)
            else:
                result = go()
                t1 = time.perf_counter()
    finally:
        S.evaluate = real_evaluate  # type: ignore[assignment]
    n = result.evaluation.frame.height
    return {"end_to_end_s": t1 - t0, "accounts": n, "evaluations": calls["n"],
            "evaluate_calls_s": calls["s"], "classes": len(result.evaluation.firsts),
            "paths": len(result.evaluation.paths),
            "calibration_rounds": len(result.calibration.steps),
            "tiers": {t: v["accounts"] for t, v in result.tier_summary().items()},
            "peak_rss_mb": _peak_mb(), "children_peak_rss_mb": _peak_mb("children")}


def _child(spec_json: str) -> None:
    spec = json.loads(spec_json)
    if spec["kind"] == "stages":
        out = _stages(spec)
    else:
        out = _end_to_end(spec, profile=spec.get("profile", False))
    print("RESULT " + json.dumps(out), flush=True)


def best_of(spec: dict[str, Any], repeat: int) -> dict[str, Any]:
    """The measurement ``repeat`` times, each in a fresh interpreter: the shortest time of
    each stage, the largest peak RSS."""
    runs = [measure(spec) for _ in range(max(1, repeat))]
    out = dict(runs[0])
    for r in runs[1:]:
        for k, v in r.items():
            if k.endswith("_s"):
                out[k] = min(out[k], v)
            elif k.endswith("rss_mb"):
                out[k] = max(out[k], v)
    out["repeats"] = len(runs)
    return out


def measure(spec: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                          check=False, capture_output=True, text=True, cwd=str(ROOT),
                          timeout=timeout)
    if spec.get("profile"):
        sys.stderr.write(proc.stderr)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"measurement {spec['kind']} {spec['engine']} n={spec['n']} failed "
                       f"(exit {proc.returncode}):\n{proc.stderr[-3000:]}")


# --- the table -----------------------------------------------------------------------------

def _rate(n: int, seconds: float | None) -> str:
    if not seconds:
        return "-"
    return f"{n / seconds:,.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = ("accounts", "engine", "memo", "read/s", "values+bands/s", "evaluate/s", "classes",
            "exec runs", "store/s", "pipeline/s", "end-to-end/s", "e2e s", "evals",
            "RSS stages MB", "RSS e2e MB")
    lines = []
    for r in rows:
        n = r["n"]
        s = r.get("stages") or {}
        e = r.get("end_to_end") or {}
        pipeline = sum(s.get(k, 0.0) for k in ("read_s", "values_bands_s", "evaluate_s", "store_s"))
        lines.append((f"{n:,}", r["engine"], "on" if r["memo"] else "off",
                       _rate(n, s.get("read_s")), _rate(n, s.get("values_bands_s")),
                       _rate(n, s.get("evaluate_s")), f"{s.get('classes', '-') if r['memo'] else '-'}",
                       f"{s.get('executor_runs', '-')}", _rate(n, s.get("store_s")),
                       _rate(n, pipeline or None), _rate(n, e.get("end_to_end_s")),
                       f"{e['end_to_end_s']:.2f}" if e else "-", f"{e.get('evaluations', '-')}",
                       f"{s['peak_rss_mb']:,.0f}" if s else "-",
                       f"{e['peak_rss_mb']:,.0f}" if e else "-"))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="10000,100000",
                    help="comma-separated portfolio sizes (default: 10000,100000)")
    ap.add_argument("--million", action="store_true", help="also 1,000,000 accounts")
    ap.add_argument("--engines", default=",".join(ENGINES),
                    help="comma-separated executors (default: durable-rules,native)")
    ap.add_argument("--no-memo", dest="no_memo", action="store_true", default=True,
                    help="also run without the per-class memo at 10,000 accounts (default)")
    ap.add_argument("--skip-no-memo", dest="no_memo", action="store_false",
                    help="do not run the --no-memo measurements")
    ap.add_argument("--no-e2e", action="store_true", help="measure the stages only")
    ap.add_argument("--million-engines", default="durable-rules",
                    help="executors at 1,000,000 accounts (default: durable-rules)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measurement N times (fresh processes) and keep the best "
                         "time of each stage (default 1)")
    ap.add_argument("--ruleset", default=str(DEFAULT_RULESET))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default=AS_OF)
    ap.add_argument("--cache", default=os.environ.get("TIERBOOK_BENCH_CACHE", "/tmp/tierbook-bench"),
                    help="folder for generated portfolios (default /tmp/tierbook-bench)")
    ap.add_argument("--tmp", default=None, help="folder for the temporary trace stores")
    ap.add_argument("--json", help="write the results as JSON to this path")
    ap.add_argument("--profile", action="store_true",
                    help="cProfile the 100,000-account end-to-end path (durable-rules) and print "
                         "the top 25 functions by cumulative time, then exit")
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0

    cache = Path(args.cache)
    base = {"ruleset": args.ruleset, "as_of": args.as_of, "tmp": args.tmp}
    if args.profile:
        path = portfolio(100_000, args.seed, cache)
        spec = dict(base, kind="end_to_end", n=100_000, portfolio=str(path), engine="durable-rules",
                    memo=True, profile=True)
        res = measure(spec)
        print(f"\n100,000 accounts end to end under cProfile: {res['end_to_end_s']:.1f} s")
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.million and 1_000_000 not in sizes:
        sizes.append(1_000_000)
    engines = [e for e in args.engines.split(",") if e]
    plan: list[tuple[int, str, bool]] = []
    for n in sizes:
        for engine in (args.million_engines.split(",") if n >= 1_000_000 else engines):
            plan.append((n, engine, True))
            if args.no_memo and n == 10_000:
                plan.append((n, engine, False))

    import platform
    rows: list[dict[str, Any]] = []
    for n, engine, memo in plan:
        path = portfolio(n, args.seed, cache)
        spec = dict(base, n=n, portfolio=str(path), engine=engine, memo=memo)
        row: dict[str, Any] = {"n": n, "engine": engine, "memo": memo}
        print(f"{n:>9,} {engine:<13} memo {'on ' if memo else 'off'} stages ...", end="",
              file=sys.stderr, flush=True)
        row["stages"] = best_of(dict(spec, kind="stages"), args.repeat)
        print(f" {sum(row['stages'][k] for k in ('read_s', 'values_bands_s', 'evaluate_s', 'store_s')):.1f} s",
              end="", file=sys.stderr, flush=True)
        if not args.no_e2e:
            print("; end to end ...", end="", file=sys.stderr, flush=True)
            row["end_to_end"] = best_of(dict(spec, kind="end_to_end"), args.repeat)
            print(f" {row['end_to_end']['end_to_end_s']:.1f} s", end="", file=sys.stderr)
        print(file=sys.stderr, flush=True)
        rows.append(row)

    print(table(rows))
    print("\nrates are accounts per second; pipeline = read + values+bands + evaluate + store; "
          "end-to-end = read, evaluate, calibration (recounts; evals = full evaluations), "
          "gates and store, as `tierbook segment --store` without report files")
    if args.json:
        doc = {"python": platform.python_version(), "machine": platform.machine(),
               "cpus": os.cpu_count(), "ruleset": args.ruleset, "seed": args.seed,
               "as_of": args.as_of, "results": rows}
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
