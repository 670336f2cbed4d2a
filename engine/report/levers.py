"""Each calibration lever's outcome, for model.md and `tierbook calibrate`: moved, at its
limit, not applicable to this run's bands, not needed or not tried, and why."""

from __future__ import annotations

from ..assess.capacity import Calibration


def lever_lines(cal: Calibration, indent: str = "  ") -> list[str]:
    return [
        f"{indent}{lv.lever} ({lv.band}): {lv.outcome.replace('_', ' ')}: {lv.detail}"
        for lv in cal.levers
    ]


def lever_markdown(cal: Calibration) -> list[str]:
    if not cal.levers or cal.direction == "none":
        return []
    lines = ["", "| lever | band set | outcome | detail |", "|---|---|---|---|"]
    for lv in cal.levers:
        detail = lv.detail.replace("|", "\\|")
        lines.append(f"| `{lv.lever}` | `{lv.band}` | {lv.outcome.replace('_', ' ')} | {detail} |")
    return lines
