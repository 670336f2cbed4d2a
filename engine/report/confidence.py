"""What the input leaves out or cannot reach, for the Calibration Confidence section and
stderr: columns no input reads (named, with the input a look-alike was probably meant
for), and tiers no account can reach with the columns given."""

from __future__ import annotations

from ..assess.result import SegmentResult

STDERR_NAMES = 8  # columns named on stderr; model.md names them all


def _ignored_text(result: SegmentResult, limit: int | None) -> str:
    names = result.ignored_columns
    shown = names if limit is None or len(names) <= limit else names[:limit]
    text = ", ".join(f"`{n}`" if limit is None else n for n in shown)
    if len(shown) < len(names):
        text += f" and {len(names) - len(shown)} more (all named in model.md)"
    return text


def _lookalike(column: str, inp: str) -> str:
    return (
        f"column '{column}' looks like input '{inp}', which has no column: rename it, "
        f"or add '{column}' to the input's aliases"
    )


def markdown_lines(result: SegmentResult) -> list[str]:
    out = []
    if result.ignored_columns:
        out.append(f"- Columns no input reads (ignored): {_ignored_text(result, None)}")
    for column, inp in sorted(result.lookalike_columns.items()):
        text = _lookalike(column, inp)
        out.append(f"- {text[0].upper()}{text[1:]}")
    for u in result.unreachable:
        out.append(f"- Tier `{u.tier}` is unreachable with the columns given: {u.because}")
    return out


STDERR_REJECTS = 10  # bad rows named one by one on stderr


def stderr_notes(result: SegmentResult) -> list[str]:
    out = []
    if result.ignored_columns:
        n = len(result.ignored_columns)
        out.append(
            f"note: {n} column(s) of {result.input_file} match no input of "
            f"{result.ruleset.name} and are ignored: {_ignored_text(result, STDERR_NAMES)}"
        )
    for column, inp in sorted(result.lookalike_columns.items()):
        out.append(f"note: {_lookalike(column, inp)}")
    for u in result.unreachable:
        out.append(f"note: tier {u.tier} is unreachable with the columns given: {u.because}")
    out += [f"warning: {w}" for w in result.read_warnings]
    for r in result.rejects[:STDERR_REJECTS]:  # (--on-error skip)
        out.append(f"left out: {'; '.join(r['reasons'])}")
    if len(result.rejects) > STDERR_REJECTS:
        more = len(result.rejects) - STDERR_REJECTS
        out.append(f"left out: {more:,} more bad row(s), each named in rejects.csv")
    return out
