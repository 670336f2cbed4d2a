"""The result of a segmentation run, shared by the report writers and the CLI."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..evaluate.run import Evaluation
from ..ruleset.model import Ruleset
from .capacity import Calibration, CapacityReport
from .gates import GateResult
from .proximity import NearBoundary
from .reach import Unreachable
from .sums import arr_per_tier

if TYPE_CHECKING:
    from ..book.model import Book
    from ..overrides.apply import OverrideReport


@dataclass
class SegmentResult:
    ruleset: Ruleset
    evaluation: Evaluation
    capacity: CapacityReport
    calibration: Calibration
    gates: list[GateResult]
    input_file: str
    input_sha256: str
    total_arr: float
    arr_field: str
    gaps: dict[str, int]
    defaulted: dict[str, int]
    missing_columns: list[str]
    rejects: list[dict[str, Any]] = field(default_factory=list)
    out_dir: str = ""
    run_id: int | None = None
    store_path: str = ""
    # input id -> accounts whose blank cell was defaulted, or None: its column is absent
    defaults: dict[str, list[Any] | None] = field(default_factory=dict)
    near_boundaries: list[NearBoundary] = field(default_factory=list)  # beside the stability gate
    ignored_columns: list[str] = field(default_factory=list)  # input columns no input reads
    lookalike_columns: dict[str, str] = field(default_factory=dict)  # ignored column -> input
    unreachable: list[Unreachable] = field(default_factory=list)  # tiers out of reach
    read_warnings: list[str] = field(default_factory=list)  # the portfolio's (near-twin ids)
    book: Book | None = None  # the current book and CSM books (book.of_result.the_book)
    overrides: OverrideReport | None = None  # --overrides: what they changed (issue 19)
    # the run's inputs beside the accounts file (tables, --map, --csms); None: none given
    inputs: dict[str, Any] | None = None
    _summary: tuple[Evaluation, OverrideReport | None, dict[str, dict[str, Any]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def ok(self) -> bool:
        return all(g.passed or g.waived for g in self.gates)

    @property
    def arr_band_id(self) -> str | None:
        return next((b.id for b in self.ruleset.bands if b.over == self.arr_field), None)

    def tiers(self) -> list[str]:
        """Each account's tier: the overrides' where one pins it, else the rules'."""
        rules = self.evaluation.tiers()
        return rules if self.overrides is None else self.overrides.tiers(rules)

    def tier_summary(self) -> dict[str, dict[str, Any]]:
        """Each tier's accounts and ARR (to the cent), summed once for the evaluation and
        overrides the result holds (the chart, model.md and the terminal each ask)."""
        held = self._summary
        if held is None or held[0] is not self.evaluation or held[1] is not self.overrides:
            held = self._summary = (self.evaluation, self.overrides, self._tier_summary())
        return {tier: dict(sums) for tier, sums in held[2].items()}

    def _tier_summary(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {
            t.id: {"accounts": 0, "arr": 0.0} for t in self.ruleset.tiers
        }
        frame = self.evaluation.frame
        arr = frame[self.arr_field] if self.arr_field in frame.columns else None
        for tier, (accounts, total) in arr_per_tier(self.tiers(), arr).items():
            out[tier] = {"accounts": accounts, "arr": total}
        for v in out.values():
            v["arr"] = round(v["arr"], 2)
        return out

    def band_counts(self, band_set: str) -> Counter[str | None]:
        counts: Counter[str | None] = Counter()  # (None: the value is unknown)
        for d, n in self.evaluation.by_path():  # (paths in order of their first account)
            counts[d.bands.get(band_set)] += n
        return counts

    def flag_counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for d, n in self.evaluation.by_path():
            for f in d.flags:
                counts[f] += n
        if self.overrides is not None:
            from ..overrides.segment import effective_flag_counts

            return effective_flag_counts(self.overrides, counts)
        return counts
