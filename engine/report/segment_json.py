"""report.json and `segment --format json`: a segmentation run as JSON."""

from __future__ import annotations

from typing import Any

from ..assess.alignment import align
from ..assess.result import SegmentResult
from .book import json_keys as book_keys


def segment_json(result: SegmentResult, accounts: bool = True) -> dict[str, Any]:
    rs = result.ruleset
    ev = result.evaluation
    arr_rb = ev.bands.get(result.arr_band_id or "")
    out: dict[str, Any] = {
        "ruleset": {"name": rs.name, "version": rs.version, "sha256": rs.sha256},
        "input": {
            "file": result.input_file,
            "sha256": result.input_sha256,
            "accounts": len(ev.decisions),
            "rejected": len(result.rejects),
            "arr": round(result.total_arr, 2),
            "missing_columns": result.missing_columns,
            "ignored_columns": result.ignored_columns,
            "lookalike_columns": result.lookalike_columns,
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
        "tiers": result.tier_summary(),
        "flags": dict(sorted(result.flag_counts().items())),
        "capacity": result.capacity.as_dict(),
        "calibration": result.calibration.as_dict(),
        "gates": [g.as_dict() for g in result.gates],
        "near_boundaries": [n.as_dict() for n in result.near_boundaries],
        "unreachable_tiers": [u.as_dict() for u in result.unreachable],
        "passed": result.ok,
    }
    alignment = align(result)
    if alignment is not None:
        out["alignment"] = alignment.as_json()
    if result.overrides is not None:
        out["overrides"] = result.overrides.as_json(rs.tier_ids)
    if result.inputs is not None:  # (--inputs, --table, --map, --csms; docs/inputs.md)
        out["inputs"] = result.inputs
    if accounts:
        # the account's own name and ARR, as accounts.jsonl names them
        name_field = rs.role("name")
        names = ev.column(name_field) if name_field else [None] * len(ev.decisions)
        arrs = ev.column(result.arr_field)
        out["accounts"] = [
            {
                "account_id": d.account_id,
                "account_name": name,
                "arr": arr,
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
            for d, name, arr in zip(ev.decisions, names, arrs)
        ]
        if result.overrides is not None:
            from ..overrides.segment import override_fields

            override_fields(result.overrides, out["accounts"])
    out.update(book_keys(result))  # (current_book, csm_books: where their columns are)
    return out
