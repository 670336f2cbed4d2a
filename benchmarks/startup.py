"""`tierbook --help` and `tierbook validate` of one ruleset: how long a quick command takes.

    python benchmarks/startup.py                          # this install, 10 runs of each
    python benchmarks/startup.py --against OTHER/bin/tierbook --runs 20 --json startup.json

Each run is a process of its own: its wall time (time.perf_counter around it) and CPU time
(the rusage os.wait4 gives).  With --against, the two installs' runs alternate, which goes
first swapping every run, so a busy machine slows both alike; the ratios are what to quote.
Two ways Python finds tierbook's code, both measured (--bytecode): `cached`, as an installed
tierbook runs (bytecode compiled once, kept in a temporary PYTHONPYCACHEPREFIX folder, so
nothing is written beside the sources), and `none` (PYTHONDONTWRITEBYTECODE=1 and no cache:
every run compiles each module of tierbook it imports).  Also, with the same interpreter,
the `floor`: what the libraries validate stands on cost alone (import click, PyYAML and
jsonschema, compose the ruleset with PyYAML's libyaml loader, as validate does, validate it
against the schema).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RULESET = ROOT / "rulesets" / "cs-segmentation-model.yaml"
SCHEMA = ROOT / "schemas" / "ruleset.schema.json"
FLOOR = f"""
import json, click, yaml, jsonschema
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(open({str(RULESET)!r}, encoding="utf-8").read())
data = loader.construct_document(loader.get_single_node())
schema = json.load(open({str(SCHEMA)!r}, encoding="utf-8"))
cls = jsonschema.validators.validator_for(schema)
list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(data))
"""


def tierbook_cli() -> str:
    """The `tierbook` console script beside this interpreter (else on PATH)."""
    beside = Path(sys.executable).with_name("tierbook")
    found = str(beside) if beside.exists() else shutil.which("tierbook")
    if not found:
        sys.exit("startup: no `tierbook` command; install tierbook first (pip install -e .)")
    return found


def once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd``; exits if it fails."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"startup: {' '.join(cmd)} failed:\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def environment(bytecode: str, cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPYCACHEPREFIX", None)
    if bytecode == "cached":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def measure(
    programs: dict[str, list[str]], runs: int, env: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Each program ``runs`` times, alternating (after one untimed run of each)."""
    for cmd in programs.values():
        once(cmd, env)
    walls: dict[str, list[float]] = {name: [] for name in programs}
    cpus: dict[str, list[float]] = {name: [] for name in programs}
    names = list(programs)
    for i in range(runs):
        for name in names if i % 2 == 0 else names[::-1]:
            wall, cpu = once(programs[name], env)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {
        name: {
            "wall_s": walls[name],
            "cpu_s": cpus[name],
            "median_wall_s": statistics.median(walls[name]),
            "median_cpu_s": statistics.median(cpus[name]),
        }
        for name in programs
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="timed runs of each (default 10)")
    ap.add_argument("--against", help="another install's tierbook command, run alternately")
    ap.add_argument("--bytecode", choices=["cached", "none", "both"], default="both")
    ap.add_argument("--json", help="write every figure as JSON to this path")
    args = ap.parse_args(argv)
    installs = {"this": tierbook_cli()} | ({"against": args.against} if args.against else {})
    modes = ["cached", "none"] if args.bytecode == "both" else [args.bytecode]
    doc: dict[str, Any] = {"python": sys.version.split()[0], "runs": args.runs,
                           "installs": installs, "ruleset": str(RULESET), "modes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            env = environment(mode, Path(tmp) / "pycache")
            found: dict[str, Any] = {}
            for command, extra in (("help", ["--help"]), ("validate", ["validate", str(RULESET)])):
                programs = {name: [exe, *extra] for name, exe in installs.items()}
                if command == "validate":
                    programs["floor"] = [sys.executable, "-c", FLOOR]
                found[command] = measure(programs, args.runs, env)
            doc["modes"][mode] = found
    for mode, found in doc["modes"].items():
        print(f"bytecode {mode}: medians of {args.runs} runs (wall s / CPU s)")
        for command, rows in found.items():
            line = ", ".join(
                f"{name} {r['median_wall_s']:.3f} / {r['median_cpu_s']:.3f}" for name, r in rows.items()
            )
            if "against" in rows:
                ratio = rows["this"]["median_wall_s"] / rows["against"]["median_wall_s"]
                line += f"; this / against {ratio:.2f}x wall"
            print(f"  {command:<9} {line}")
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
