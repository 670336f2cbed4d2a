"""What the quick commands import (docs/performance.md: `tierbook --help` and `validate`
under 150 ms).  Each runs in a fresh interpreter, so the suite's own imports do not count,
and the test looks at `sys.modules` afterwards: no timing.  A heavy import that creeps back
onto these paths (polars, matplotlib, durable-rules, the typed model and the engine behind
it) fails here by name."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

RULESET = ROOT / "rulesets" / "cs-segmentation-model.yaml"
INVALID = ROOT / "tests" / "cases" / "invalid" / "band-gap.yaml"

# what a segment needs and validate must not import
RUN_TIME = (
    "polars",
    "numpy",
    "matplotlib",
    "durable",
    "durable_rules_engine",
    "orjson",
    "sqlite3",
    "concurrent.futures",  # (the store's rows beside the files)
    "tierbook.ruleset.model",
    "tierbook.ruleset.build",
    "tierbook.sources.model",
    "tierbook.network.compile",
    "tierbook.evaluate",
    "tierbook.assess",
    "tierbook.report",
    "tierbook.trace",
    "tierbook.commands.segment",
    "tierbook.commands.review",
    "tierbook.commands.replay_command",
    "tierbook.commands.stored_run",
    "tierbook.portfolio.events",  # (the ruleset checks need the event types only)
)
# and what --help does not need either: the checking itself
CHECKING = ("jsonschema", "yaml", "tierbook.ruleset.schema", "tierbook.ruleset.validate")


def _run(*args: str) -> tuple[int, str, set[str]]:
    """``tierbook ARGS`` in a fresh interpreter: exit code, output, modules imported."""
    code = (
        "import json, sys\n"
        "from tierbook.cli.main import main\n"
        "try:\n"
        f"    main({list(args)!r})\n"
        "except SystemExit as exc:\n"
        "    status = exc.code or 0\n"
        "print('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n"
        "sys.exit(status)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    out, _, modules = proc.stdout.rpartition("\nMODULES ")
    return proc.returncode, out + proc.stderr, set(json.loads(modules))


def _heavy(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


def test_help_imports_no_checking_and_no_engine() -> None:
    status, out, modules = _run("--help")
    assert status == 0 and "validate" in out and "segment" in out
    assert _heavy(modules, RUN_TIME + CHECKING) == []


def test_validate_imports_what_checking_needs_only() -> None:
    status, out, modules = _run("validate", str(RULESET))
    assert (status, out.strip()) == (0, f"{RULESET}: valid")
    assert {"jsonschema", "yaml", "tierbook.ruleset.validate"} <= modules  # (it did check)
    assert _heavy(modules, RUN_TIME) == []


def test_validate_of_an_invalid_ruleset_imports_no_engine_either() -> None:
    status, out, modules = _run("validate", "--format", "json", str(INVALID))
    assert status == 1 and json.loads(out)["errors"]
    assert _heavy(modules, RUN_TIME) == []


def test_the_validate_command_alone_imports_no_other_command() -> None:
    """Only the command given is imported (cli.main loads each command's module when it
    is run or listed), so validate does not pay for segment's or replay's options."""
    _, _, modules = _run("validate", str(RULESET))
    others = {"segment_cmds", "replay_cmd", "trace_cmds", "events_cmd", "override_cmd", "runs"}
    assert _heavy(modules, tuple(f"tierbook.cli.{m}" for m in others)) == []


def test_every_command_of_cli_is_listed_under_its_name() -> None:
    """cli.main lists the commands by name (so that it imports none of them up front): a
    command added to a module of cli/ and not to that list would be missing from tierbook."""
    import importlib

    import click
    from tierbook.cli import main as cli_main

    defined: dict[str, click.Command] = {}
    nested: set[int] = set()
    for path in sorted((ROOT / "cli").glob("*.py")):
        module = importlib.import_module(f"tierbook.cli.{path.stem}")
        for value in vars(module).values():
            if isinstance(value, click.Command) and value is not cli_main.main:
                defined[f"{path.stem}.{value.name}"] = value
                if isinstance(value, click.Group):
                    nested |= {id(sub) for sub in value.commands.values()}
    top = {c.name: c for c in defined.values() if id(c) not in nested}
    assert sorted(top) == sorted(cli_main.COMMANDS)
    ctx = click.Context(cli_main.main)
    assert all(cli_main.main.get_command(ctx, name) is top[name] for name in top)
    assert cli_main.main.get_command(ctx, "nosuch") is None


def test_a_segment_draws_its_chart_without_matplotlib(tmp_path) -> None:
    """tiers.png is drawn on every segment, with Pillow: matplotlib is for replay's charts."""
    status, out, modules = _run("segment", str(ROOT / "examples" / "portfolio.csv"), "--as-of",
                                "2026-10-01", "--out", str(tmp_path / "out"))
    assert status == 0, out
    assert (tmp_path / "out" / "tiers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "PIL.ImageDraw" in modules and _heavy(modules, ("matplotlib",)) == []
