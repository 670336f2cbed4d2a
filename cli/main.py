"""The `tierbook` console command: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from tierbook.commands import api as commands
from tierbook.engines import ENGINES
from tierbook.errors import EXIT_CHANGES, EXIT_INVALID

from .handler import run_command as _run
from .options import (
    evaluation_options,
    leading_ruleset,
    on_error_option,
    parse_date,
    parse_optional_date,
)
from .runs import runs

FORMATS = click.Choice(["text", "json"])


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:  # usage errors exit 2 (click's default)
        return super().main(*args, **kwargs)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tierbook")
def main() -> None:
    """tierbook: Customer Success segmentation rulesets you can validate, run, explain,
    plan and replay."""


@main.command()
@click.argument("rulesets", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="github prints workflow-command annotations.",
)
@click.option(
    "--base",
    help="Previous version of the ruleset: fail when the rules changed "
    "but the version was not bumped.",
)
@click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    metavar="DATE",
    help="Date waivers' expiry is judged on (default: today).",
)
def validate(rulesets: tuple[str, ...], fmt: str, base: str | None, as_of: dt.date) -> None:
    """Check rulesets: YAML, schema and semantic errors, each as file:line:column.  A folder
    stands for the .yaml/.yml files directly in it (`tierbook validate rulesets/`)."""
    if not rulesets:
        raise click.UsageError("give at least one RULESET file (or a shipped ruleset name)")
    files: list[str] = []
    for arg in rulesets:
        if Path(arg).is_dir():
            found = sorted(
                str(p)
                for p in Path(arg).iterdir()
                if p.suffix.lower() in (".yaml", ".yml") and p.is_file()
            )
            if not found:
                raise click.UsageError(f"{arg}: no .yaml or .yml files in this folder")
            files += found
        else:
            files.append(arg)

    def go() -> int:
        report = commands.validate(files, base=base, as_of=as_of)
        if fmt == "json":
            click.echo(json.dumps(report.as_dict(), indent=2))
        elif fmt == "github":
            for side in report.sides:
                click.echo(f"::notice title=tierbook validate --base::{side.line()}")
            for kind, found in (("error", report.problems), ("warning", report.warnings)):
                for p in found:
                    click.echo(
                        f"::{kind} file={p.file},line={p.line},col={p.column},"
                        f"title={p.code}::{p.path}: {p.message}"
                    )
        else:
            for side in report.sides:  # --base: what each side resolved to, and its content
                click.echo(side.line())
            for p in report.problems:
                click.echo(str(p))
            for p in report.warnings:
                click.echo(f"{p} (warning)")
            for name in report.valid:
                click.echo(f"{name}: valid")
            if report.problems:
                n = len(report.problems)
                click.echo(
                    f"{n} error{'s' if n != 1 else ''} in "
                    f"{len(report.invalid)} of {len(files)} file(s)",
                    err=True,
                )
        return 1 if report.problems else 0

    _run(go)


@main.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@evaluation_options
@click.option(
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for model.md, accounts.csv/.jsonl, tiers.png, report.json.",
)
@on_error_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--no-chart", is_flag=True, help="Do not draw tiers.png.")
def segment(
    ruleset: str | None,
    accounts: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    out_dir: str,
    on_error: str,
    fmt: str,
    no_chart: bool,
) -> None:
    """Segment a portfolio: bands, tiers, flags, capacity, gates, model document.

    RULESET defaults to the shipped cs-segmentation-model; ACCOUNTS to the bundled sample
    portfolio (CSV, JSON Lines or Parquet); a single data file is the portfolio."""
    ruleset, accounts = leading_ruleset("segment", ruleset, accounts)

    def go() -> int:
        result = commands.segment(
            ruleset,
            accounts,
            as_of=as_of,
            engine=engine,
            store_path=store,
            memo=not no_memo,
            out_dir=out_dir,
            on_error=on_error,
            chart=not no_chart,
            progress=_progress_printer(),
        )
        if sys.stderr.isatty() and len(result.evaluation.decisions) >= 10000:
            click.echo("", err=True)  # end the progress line
        if result.evaluation.engine_note:
            click.echo(f"note: {result.evaluation.engine_note}", err=True)
        _input_notes(result)
        if fmt == "json":
            from tierbook.report.segment_json import segment_json

            click.echo(json.dumps(segment_json(result), indent=2))
        else:
            from tierbook.report.terminal import summary_width, terminal_summary

            click.echo(terminal_summary(result, summary_width(sys.stdout)))
        click.echo(
            f"trace: run {result.run_id} in {result.store_path} (tierbook explain ACCOUNT_ID)",
            err=True,
        )
        return 0 if result.ok else 1

    _run(go)


@main.command()
@click.argument("account_id")
@click.option(
    "--run", "run_id", type=int, help="Run id (default: the latest complete segment run)."
)
@click.option(
    "--level", type=click.Choice(["full", "fired", "why-not"]), default="full", show_default=True
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    envvar="TIERBOOK_STORE",
    help="Trace store (default: $TIERBOOK_STORE or .tierbook/traces.sqlite).",
)
def explain(account_id: str, run_id: int | None, level: str, fmt: str, store: str | None) -> None:
    """The chain of rules that placed ACCOUNT_ID, with its own values against each condition."""

    def go() -> int:
        from tierbook.trace.explain import render_text

        x = commands.explain(account_id, run_id=run_id, store_path=store)
        if fmt == "json":
            if level == "fired":
                x.pop("why_not")
            elif level == "why-not":
                x.pop("firings")
            click.echo(json.dumps(x, indent=2, default=str))
        else:
            click.echo(render_text(x, level))
        return 0

    _run(go)


@main.command()
@click.option(
    "--base",
    required=True,
    help="The ruleset before the change: a file, a shipped "
    "name, or git:REF:PATH (e.g. git:main:rulesets/cs-segmentation-model.yaml).",
)
@click.option("--head", required=True, help="The ruleset after the change (same forms).")
@click.argument("accounts", required=False)
@evaluation_options
@on_error_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown is ready to post as a pull-request comment.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing changes, 4 when something does; 1 (a failed gate of the head, "
    "bad input) and 2 (usage) as always.",
)
def plan(
    base: str,
    head: str,
    accounts: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    on_error: str,
    fmt: str,
    detailed_exitcode: bool,
) -> None:
    """What changing the ruleset from BASE to HEAD does to the portfolio: accounts that move
    tier, ARR moved, CSMs needed, gates and flags.  Exits 1 when a gate of the head fails."""

    def go() -> int:
        from tierbook.report import plan as planning

        p = commands.plan(
            base,
            head,
            accounts,
            as_of=as_of,
            engine=engine,
            store_path=store,
            memo=not no_memo,
            on_error=on_error,
        )
        for w in p.warnings:
            click.echo(f"warning: {w}", err=True)
        if fmt == "json":
            click.echo(json.dumps(p.as_json(), indent=2))
        elif fmt == "markdown":
            click.echo(planning.render_markdown(p), nl=False)
        else:
            click.echo(planning.render_text(p))
        for g in p.failed_gates:
            click.echo(f"error: gate {g.id} failed on the head: {g.detail}", err=True)
        if p.failed_gates:
            return int(EXIT_INVALID)
        return int(EXIT_CHANGES) if detailed_exitcode and p.changed else 0

    _run(go)


@main.command("test")
@click.argument("paths", nargs=-1)
@click.option(
    "--coverage", is_flag=True, help="List rules, grid cells and flags no case exercises."
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Fail when rule coverage of any ruleset is below PCT percent.",
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--as-of",
    "as_of",
    callback=parse_optional_date,
    metavar="DATE",
    help="Override the test files' as_of dates.",
)
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True)
def test_command(
    paths: tuple[str, ...],
    coverage: bool,
    fail_under: float | None,
    fmt: str,
    as_of: Any,
    engine: str,
) -> None:
    """Run rule test cases (YAML files; default: rulesets/tests) and report rule coverage."""

    def go() -> int:
        from tierbook.commands.testing import render_text, run_tests

        report = run_tests(list(paths), as_of=as_of, engine=engine)
        if fmt == "json":
            click.echo(json.dumps(report.as_dict(), indent=2))
        else:
            click.echo(render_text(report, coverage or fail_under is not None))
        low = [
            c for c in report.coverage.values() if fail_under is not None and c.percent < fail_under
        ]
        for c in low:
            click.echo(
                f"coverage of {c.ruleset} is {c.percent:.1f}%, under {fail_under:g}%", err=True
            )
        if not report.results:  # a run that tested nothing has not passed
            where = ", ".join(paths) or "the default test folder"
            click.echo(
                f"no test cases in {where} ({len(report.files)} test file(s) read): "
                "nothing was tested",
                err=True,
            )
            return 1
        return 1 if report.failed or low else 0

    _run(go)


@main.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@click.argument("events", required=False)
@evaluation_options
@click.option(
    "--out",
    "out_dir",
    default="out-replay",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for replay.txt/.json, tiers_by_quarter.png/.csv, flows.png/.csv.",
)
@on_error_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--no-chart", is_flag=True, help="Do not draw the PNG charts.")
def replay(
    ruleset: str | None,
    accounts: str | None,
    events: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    out_dir: str,
    on_error: str,
    fmt: str,
    no_chart: bool,
) -> None:
    """Replay quarterly EVENTS on the portfolio: tier movement, promotions, demotions,
    reviews and re-calibration triggers, quarter by quarter.

    Defaults: the shipped ruleset, examples/portfolio.csv and examples/events.csv; when the
    first argument is a data file, the ruleset is the shipped one."""
    ruleset, accounts, events = leading_ruleset("replay", ruleset, accounts, events)

    def go() -> int:
        from tierbook.report import replay as replay_report

        r = commands.replay(
            ruleset,
            accounts,
            events,
            as_of=as_of,
            engine=engine,
            store_path=store,
            memo=not no_memo,
            on_error=on_error,
            out_dir=out_dir,
            chart=not no_chart,
        )
        if fmt == "json":
            click.echo(json.dumps(r.as_json(), indent=2))
        else:
            click.echo(replay_report.render_text(r))
        click.echo(
            f"trace: replay {r.replay_id} (tierbook history ACCOUNT_ID); wrote {out_dir}", err=True
        )
        return 0

    _run(go)


@main.command()
@click.argument("account_id")
@click.option(
    "--run",
    "--replay",
    "replay_id",
    type=int,
    help="A run of the replay: its id or any quarter's (default: the latest complete replay).",
)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option(
    "--store",
    "store",
    type=click.Path(dir_okay=False),
    envvar="TIERBOOK_STORE",
    help="Trace store (default: $TIERBOOK_STORE or .tierbook/traces.sqlite).",
)
def history(account_id: str, replay_id: int | None, fmt: str, store: str | None) -> None:
    """ACCOUNT_ID's path through the quarters of a replay, with the rule behind each move."""

    def go() -> int:
        about, rows = commands.history(account_id, store_path=store, replay_id=replay_id)
        if fmt == "json":
            doc = {"account_id": about["account_id"], "replay": about, "quarters": rows}
            click.echo(json.dumps(doc, indent=2))
            return 0
        from tierbook.report.history import render_history

        click.echo("\n".join(render_history(about, rows)))
        return 0

    _run(go)


@main.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@evaluation_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the new ruleset version.",
)
@click.option("--in-place", is_flag=True, help="Rewrite RULESET itself (review the diff).")
@on_error_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def calibrate(
    ruleset: str | None,
    accounts: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    output: str | None,
    in_place: bool,
    on_error: str,
    fmt: str,
) -> None:
    """Write the capacity calibration `segment` recommends as a new ruleset version:
    thresholds moved (labels that spell them follow), version bumped, a changelog line
    saying why.  A calibration that would move no account of the calibrated tier is
    refused (exit 1)."""
    ruleset, accounts = leading_ruleset("calibrate", ruleset, accounts)

    def go() -> int:
        from tierbook.report import calibrate_output

        outcome = commands.calibrate(
            ruleset,
            accounts,
            as_of=as_of,
            engine=engine,
            output=output,
            in_place=in_place,
            on_error=on_error,
            store_path=store,
            memo=not no_memo,
        )
        _input_notes(outcome.result)
        # rewritten in place, the old version is only in git now: compare with that
        base = f"git:HEAD:{ruleset}" if in_place else (ruleset or "cs-segmentation-model")
        out, err = calibrate_output.text(outcome, base)
        if fmt == "json":
            click.echo(json.dumps(calibrate_output.as_json(outcome, base), indent=2))
        else:
            click.echo("\n".join(out))
        for line in err:
            click.echo(line, err=True)
        return int(outcome.exit_code)

    _run(go)


@main.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@evaluation_options
@on_error_option
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
def align(
    ruleset: str | None,
    accounts: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    on_error: str,
    fmt: str,
) -> None:
    """Coverage alignment: accounts covered differently from their recommended tier, the
    changes of highest impact, expansion ranking and CSM territory rebalancing.

    RULESET defaults to the shipped priority-model; a single data file is the portfolio."""
    ruleset, accounts = leading_ruleset("align", ruleset, accounts)

    def go() -> int:
        from tierbook.assess.alignment import markdown

        result, alignment = commands.align(
            ruleset,
            accounts,
            as_of=as_of,
            engine=engine,
            store_path=store,
            memo=not no_memo,
            on_error=on_error,
        )
        _input_notes(result)
        if fmt == "json":
            click.echo(json.dumps(alignment.as_json(), indent=2))
        else:
            click.echo("\n".join(markdown(alignment, result.ruleset.tier_ids)))
        return 0

    _run(go)


def _input_notes(result: Any) -> None:
    """The input's columns no input reads and the tiers out of reach, on stderr."""
    from tierbook.report.confidence import stderr_notes

    for line in stderr_notes(result):
        click.echo(line, err=True)


main.add_command(runs)


def _progress_printer() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(n: int) -> None:
        if n % 10000 == 0:
            click.echo(f"\r  evaluated {n:,} accounts", err=True, nl=False)

    return show


if __name__ == "__main__":  # pragma: no cover
    main()
