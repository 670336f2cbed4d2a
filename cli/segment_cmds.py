"""The commands that segment a portfolio and keep the run: `segment`, `plan`, `calibrate`
and `align`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from tierbook.commands import api as commands
from tierbook.errors import EXIT_CHANGES, EXIT_INVALID

from .handler import run_command as _run
from .options import (
    FORMATS,
    InputArgs,
    evaluation_options,
    input_options,
    leading_ruleset,
    on_error_option,
    overrides_option,
    scheduler_option,
)


@click.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@evaluation_options
@click.option(
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for model.md, accounts.csv/.jsonl, tiers.png, report.json, report.html.",
)
@on_error_option
@input_options
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--no-chart", is_flag=True, help="Do not draw tiers.png.")
@overrides_option
@scheduler_option
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
    overrides: str | None,
    inputs: InputArgs,
    scheduler: str | None,
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
            overrides=overrides,
            inputs=inputs.build(),
            scheduler=scheduler,
        )
        if sys.stderr.isatty() and len(result.evaluation.decisions) >= 10000:
            click.echo("", err=True)  # end the progress line
        if result.evaluation.engine_note:
            click.echo(f"note: {result.evaluation.engine_note}", err=True)
        _input_notes(result)
        if fmt == "json":
            from tierbook.report.jsontext import indented
            from tierbook.report.segment_json import segment_json

            click.echo(indented(segment_json(result)))
        else:
            from tierbook.report.terminal import summary_width, terminal_summary

            click.echo(terminal_summary(result, summary_width(sys.stdout)))
        click.echo(
            f"trace: run {result.run_id} in {result.store_path} (tierbook explain ACCOUNT_ID)",
            err=True,
        )
        return 0 if result.ok else 1

    _run(go)


@click.command()
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
@input_options
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
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False),
    help="Also write the plan as one self-contained HTML page (say report.html).",
)
@overrides_option
@click.option(
    "--base-overrides",
    metavar="FILE",
    help="The overrides file before the change (a file or git:REF:PATH); default: the same "
    "as --overrides. With the same ruleset as base and head, plans the overrides change.",
)
@scheduler_option
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
    html_file: str | None,
    overrides: str | None,
    base_overrides: str | None,
    inputs: InputArgs,
    scheduler: str | None,
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
            overrides=overrides,
            base_overrides=base_overrides,
            inputs=inputs.build(),
            scheduler=scheduler,
        )
        for w in p.warnings:
            click.echo(f"warning: {w}", err=True)
        if html_file:
            from tierbook.report.html.files import write_plan_html

            write_plan_html(p, html_file)
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


@click.command()
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
@input_options
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@overrides_option
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
    overrides: str | None,
    inputs: InputArgs,
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
            overrides=overrides,
            inputs=inputs.build(),
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


@click.command()
@click.argument("ruleset", required=False)
@click.argument("accounts", required=False)
@evaluation_options
@on_error_option
@input_options
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@overrides_option
def align(
    ruleset: str | None,
    accounts: str | None,
    as_of: Any,
    engine: str,
    store: str | None,
    no_memo: bool,
    on_error: str,
    fmt: str,
    overrides: str | None,
    inputs: InputArgs,
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
            overrides=overrides,
            inputs=inputs.build(),
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
    from tierbook.sources.report import stderr_notes as input_notes

    for line in stderr_notes(result) + input_notes(result):
        click.echo(line, err=True)


def _progress_printer() -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(n: int) -> None:
        if n % 10000 == 0:
            click.echo(f"\r  evaluated {n:,} accounts", err=True, nl=False)

    return show
