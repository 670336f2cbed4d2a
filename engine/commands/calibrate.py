"""`tierbook calibrate` after the run: write the recommended calibration as a new ruleset
version, or say why not (nothing to calibrate; or a calibration that would change nothing,
refused rather than written as a version that only renumbers the ruleset)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..assess.calibration import Proposal, propose
from ..assess.result import SegmentResult
from ..errors import EXIT_INVALID, EXIT_OK
from ..ruleset.yamlsafe import Document

WRITTEN, NOTHING, REFUSED = "written", "nothing_to_calibrate", "refused"


@dataclass
class CalibrateOutcome:
    result: SegmentResult
    proposal: Proposal | None
    path: str  # the new version's file ('' when none was written)
    refused: str  # why a recommended calibration was not written ('' otherwise)

    @property
    def status(self) -> str:
        if self.proposal is not None:
            return WRITTEN
        return REFUSED if self.refused else NOTHING

    @property
    def exit_code(self) -> int:
        # asked to calibrate and it cannot: the ruleset's levers cannot fit this portfolio
        return EXIT_INVALID if self.status == REFUSED else EXIT_OK


def finish(doc: Document, result: SegmentResult, as_of: dt.date, target: Path) -> CalibrateOutcome:
    cal = result.calibration
    if cal.direction == "none":
        return CalibrateOutcome(result, None, "", "")
    if cal.refusal:
        return CalibrateOutcome(result, None, "", cal.refusal)
    proposal = propose(doc, cal, as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(proposal.text)
    os.replace(tmp, target)
    return CalibrateOutcome(result, proposal, str(target), "")
