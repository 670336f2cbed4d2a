"""The result of a segmentation run, shared by the report writers and the CLI."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .capacity import Calibration, CapacityReport
from .evaluate import Evaluation
from .gates import GateResult
from .model import Ruleset


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

    @property
    def ok(self) -> bool:
        return all(g.passed or g.waived for g in self.gates)

    @property
    def arr_band_id(self) -> str | None:
        return next((b.id for b in self.ruleset.bands if b.over == self.arr_field), None)

    def tier_summary(self) -> dict[str, dict[str, Any]]:
        out = {t.id: {"accounts": 0, "arr": 0.0} for t in self.ruleset.tiers}
        for tier, arr in zip(self.evaluation.tiers(), self.evaluation.column(self.arr_field)):
            out[tier]["accounts"] += 1
            out[tier]["arr"] += float(arr or 0.0)
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
        return counts

    def extra_sections(self) -> list[list[str]]:
        """Method-specific sections (keep-segment: health framework, resource map)."""
        from .report_extra import extra_sections

        return extra_sections(self)

    def as_json(self, accounts: bool = True) -> dict[str, Any]:
        rs = self.ruleset
        ev = self.evaluation
        arr_rb = ev.bands.get(self.arr_band_id or "")
        out: dict[str, Any] = {
            "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256},
            "input": {
                "file": self.input_file,
                "sha256": self.input_sha256,
                "accounts": len(ev.decisions),
                "rejected": len(self.rejects),
                "arr": round(self.total_arr, 2),
            },
            "as_of": ev.as_of.isoformat(),
            "engine": ev.engine,
            "arr_bands": None
            if arr_rb is None
            else {
                "method": arr_rb.method,
                "reason": arr_rb.reason,
                "edges": arr_rb.edges,
                "figures": arr_rb.figures,
            },
            "bands": {
                k: {"method": rb.method, "reason": rb.reason, "edges": rb.edges}
                for k, rb in ev.bands.items()
            },
            "tiers": self.tier_summary(),
            "flags": dict(sorted(self.flag_counts().items())),
            "capacity": self.capacity.as_dict(),
            "calibration": self.calibration.as_dict(),
            "gates": [g.as_dict() for g in self.gates],
            "passed": self.ok,
        }
        from .alignment import align

        alignment = align(self)
        if alignment is not None:
            out["alignment"] = alignment.as_json()
        if accounts:
            out["accounts"] = [
                {
                    "account_id": d.account_id,
                    "tier": d.tier,
                    "cell": d.cell,
                    "flags": d.flags,
                    "bands": d.bands,
                    "scores": {s.id: d.values.get(s.id) for s in rs.scores},
                    "decisions": d.decisions,
                    "comments": d.comments,
                    "reviews": d.reviews,
                    "motion": d.motion,
                }
                for d in ev.decisions
            ]
        return out
