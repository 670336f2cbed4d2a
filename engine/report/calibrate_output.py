"""What `tierbook calibrate` prints: text for people, `--format json` for scripts."""

from __future__ import annotations

from typing import Any

from ..commands.calibrate import REFUSED, WRITTEN, CalibrateOutcome
from .levers import lever_lines


def review_command(outcome: CalibrateOutcome, base: str) -> str:
    return f"tierbook plan --base {base} --head {outcome.path}"


def text(outcome: CalibrateOutcome, base: str) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines)."""
    cal = outcome.result.calibration
    out = [cal.reason]
    for step in cal.steps:
        out.append(
            f"  round {step.round}: {step.lever} {step.boundary_from:g} -> "
            f"{step.boundary_to:g}: {cal.tier} "
            f"{step.tier_accounts_before} -> {step.tier_accounts_after} accounts, "
            f"CSMs needed {step.needed_before} -> {step.needed_after}"
        )
    if cal.levers and cal.direction != "none":
        out += ["levers:"] + lever_lines(cal)
    if outcome.status == REFUSED:
        return out, [f"no new version written: {outcome.refused}"]
    proposal = outcome.proposal
    if outcome.status != WRITTEN or proposal is None:
        return out + ["nothing to calibrate: no new version written"], []
    for change in proposal.changes:
        for band, label in change["labels"].items():
            out.append(f"  label of {band}: {label['from']} -> {label['to']}")
    out.append(
        f"wrote {outcome.path}: version {proposal.old_version} -> {proposal.new_version}; "
        f"review it with {review_command(outcome, base)}"
    )
    return out, []


def as_json(outcome: CalibrateOutcome, base: str) -> dict[str, Any]:
    result = outcome.result
    rs = result.ruleset
    proposal = outcome.proposal
    return {
        "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256},
        "input": {
            "file": result.input_file,
            "sha256": result.input_sha256,
            "accounts": len(result.evaluation.decisions),
        },
        "as_of": result.evaluation.as_of.isoformat(),
        "status": outcome.status,
        "refused": outcome.refused or None,
        "calibration": result.calibration.as_dict(),
        "written": None
        if proposal is None
        else {
            "file": outcome.path,
            "old_version": proposal.old_version,
            "new_version": proposal.new_version,
            "changes": proposal.changes,
            "changelog": proposal.changelog,
            "review": review_command(outcome, base),
        },
    }
