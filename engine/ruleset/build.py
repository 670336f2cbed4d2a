"""Load a ruleset file: YAML -> schema -> semantic checks -> typed model.

``load_ruleset`` is the one entry point; it raises :class:`RulesetError` carrying every
problem found, sorted by position.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..errors import RulesetError
from .model import (
    Band,
    BandSet,
    Capacity,
    Cell,
    Component,
    Contradiction,
    CurrentBook,
    Decision,
    DecisionRule,
    Derived,
    Flag,
    Gate,
    Grid,
    Input,
    Lever,
    ReviewHint,
    Ruleset,
    Score,
    Tier,
    TransitionRule,
    Trigger,
    Waiver,
)
from .validate import check_document
from .yamlsafe import Document, load_file

DERIVED_OPS = ("ratio", "difference", "sum", "days_since", "days_until")


def content_hash(doc: Document) -> str:
    """Hash of the ruleset's meaning: canonical JSON of the data, not its formatting."""
    canonical = json.dumps(doc.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _bands(items: list[dict[str, Any]]) -> tuple[Band, ...]:
    out = []
    for b in items:
        lower, lower_inc = (b["gte"], True) if "gte" in b else (b.get("gt"), False)
        upper, upper_inc = (b["lte"], True) if "lte" in b else (b.get("lt"), False)
        out.append(
            Band(
                id=b["id"],
                lower=lower,
                lower_inclusive=lower_inc if lower is not None else True,
                upper=upper,
                upper_inclusive=upper_inc,
                row=b.get("row", b["id"]),
                label=b.get("label", b["id"]),
                target_account_share=tuple(b["target_account_share"])
                if "target_account_share" in b
                else None,
                target_arr_share=tuple(b["target_arr_share"]) if "target_arr_share" in b else None,
            )
        )
    return tuple(out)


def _band_set(b: dict[str, Any]) -> BandSet:
    variants: dict[str, tuple[Band, ...]] = {}
    if "bands" in b:
        variants["declared"] = _bands(b["bands"])
    for method in ("log", "quartile"):
        if method in b:
            variants[method] = _bands(b[method]["bands"])
    quantiles = tuple(b.get("quartile", {}).get("quantiles", (0.25, 0.5, 0.75)))
    return BandSet(
        id=b["id"],
        over=b["over"],
        method=b["method"],
        variants=variants,
        quantiles=quantiles,
        auto=dict(b.get("auto", {})),
        step=float(b.get("step", 1000)),
        label=b.get("label", b["id"]),
        description=b.get("description", ""),
        because=b.get("because", ""),
    )


def _derived(x: dict[str, Any]) -> Derived:
    op = next(op for op in DERIVED_OPS if op in x)
    args = x[op] if isinstance(x[op], list) else [x[op]]
    return Derived(id=x["id"], op=op, args=tuple(args), description=x.get("description", ""))


def _tier(t: dict[str, Any]) -> Tier:
    book = t.get("book_size", {})
    target = book.get("target")
    if target is None and book:
        target = (book["min"] + book["max"]) // 2 if "max" in book else book["min"]
    return Tier(
        id=t["id"],
        label=t["label"],
        because=t["because"],
        entry=t.get("entry", ""),
        treatment=t.get("treatment", ""),
        book_min=book.get("min"),
        book_max=book.get("max"),
        book_target=target,
        pooled=bool(t.get("pooled", False)),
        automated=bool(t.get("automated", False)),
        motion=dict(t.get("motion", {})),
        targets=dict(t.get("targets", {})),
    )


def grid_cells(g: dict[str, Any], columns: list[str]) -> tuple[Cell, ...]:
    template = g.get("because", "{row} row, {column} column: {tier}")
    cells = []
    for row, value in g["cells"].items():
        tiers = value if isinstance(value, list) else [value]
        cols = columns if g.get("columns") else [""]
        for column, tier in zip(cols, tiers):
            cell_id = f"{g['id']}.{row}.{column}" if column else f"{g['id']}.{row}"
            text = (
                template.replace("{row}", str(row))
                .replace("{column}", str(column))
                .replace("{tier}", str(tier))
            )
            cells.append(Cell(cell_id, row, column, tier, text))
    return tuple(cells)


def build_model(doc: Document, sha256: str) -> Ruleset:
    """Typed model of a ruleset that passed the schema and semantic checks."""
    d = doc.data
    meta = d["metadata"]
    band_sets = tuple(_band_set(b) for b in d["bands"])
    by_id = {b.id: b for b in band_sets}
    g = d["grid"]
    columns = list(
        g.get("column_order") or (by_id[g["columns"]].rows() if g.get("columns") else [])
    )
    rows = list(g.get("row_order") or reversed(by_id[g["rows"]].rows()))
    cap = d.get("capacity", {})
    calib = cap.get("calibration", {})
    trans = d.get("transitions", {})
    return Ruleset(
        name=meta["name"],
        version=meta["version"],
        effective_date=meta["effective_date"],
        description=meta.get("description", ""),
        sha256=sha256,
        source_file=doc.file,
        inputs=tuple(
            Input(
                id=i["id"],
                type=i["type"],
                required=bool(i.get("required", False)),
                default=i.get("default"),
                unit=i.get("unit", ""),
                min=i.get("min"),
                max=i.get("max"),
                values=tuple(i.get("values", ())),
                aliases=tuple(i.get("aliases", ())),
                role=i.get("role", ""),
                label=i.get("label", i["id"]),
                description=i.get("description", ""),
            )
            for i in d["inputs"]
        ),
        derived=tuple(_derived(x) for x in d.get("derived", [])),
        scores=tuple(
            Score(
                id=s["id"],
                method=s["method"],
                scale=float(s.get("scale", 1)),
                round=int(s.get("round", 4)),
                label=s.get("label", s["id"]),
                description=s.get("description", ""),
                because=s.get("because", ""),
                when_unknown=s.get("when_unknown", "unknown"),
                min_known=float(s.get("min_known", 0.5)),
                components=tuple(
                    Component(
                        id=c["id"],
                        weight=float(c.get("weight", 1.0)),
                        input=c.get("input"),
                        when=c.get("when"),
                        scoring=dict(c.get("scoring", {})),
                        label=c.get("label", c["id"]),
                    )
                    for c in s["components"]
                ),
            )
            for s in d.get("scores", [])
        ),
        bands=band_sets,
        decisions=tuple(
            Decision(
                id=x["id"],
                hit_policy=x["hit_policy"],
                default=x.get("default"),
                label=x.get("label", x["id"]),
                description=x.get("description", ""),
                rules=tuple(
                    DecisionRule(
                        r["id"], r["when"], r["value"], r["because"], int(r.get("priority", 0))
                    )
                    for r in x["rules"]
                ),
            )
            for x in d.get("decisions", [])
        ),
        tiers=tuple(_tier(t) for t in d["tiers"]),
        grid=Grid(
            id=g["id"],
            rows=g["rows"],
            columns=g.get("columns"),
            row_order=tuple(rows),
            column_order=tuple(columns),
            cells=grid_cells(g, columns),
        ),
        flags=tuple(
            Flag(
                f["id"],
                f["when"],
                f["because"],
                f.get("label", f["id"]),
                f.get("trigger", ""),
                tuple(f.get("unlocks", ())),
            )
            for f in d.get("flags", [])
        ),
        contradictions=tuple(
            Contradiction(
                c["id"],
                (c["flags"][0], c["flags"][1]),
                c["comment"],
                c.get("because", c["comment"]),
            )
            for c in d.get("contradictions", [])
        ),
        compatible=tuple(dict(c) for c in d.get("compatible", [])),
        review_hints=tuple(
            ReviewHint(r["id"], r["when"], r["hint"], r["because"])
            for r in d.get("review_hints", [])
        ),
        capacity=Capacity(
            per_tier=dict(cap.get("csms_available", {})),
            total=cap.get("total"),
            calibration_tier=calib.get("tier"),
            tolerance=float(calib.get("tolerance", 0.10)),
            max_rounds=int(calib.get("max_rounds", 10)),
            levers=tuple(
                Lever(
                    id=lv["id"],
                    band=lv["band"],
                    lower_of=lv["lower_of"],
                    method=lv.get("method"),
                    step=lv.get("step"),
                    factor=lv.get("factor"),
                    min=lv.get("min"),
                    max=lv.get("max"),
                    because=lv.get("because", ""),
                )
                for lv in calib.get("levers", [])
            ),
        ),
        gates=tuple(
            Gate(
                x["id"],
                x["kind"],
                {k: v for k, v in x.items() if k not in ("id", "kind", "because")},
                x.get("because", ""),
            )
            for x in d.get("gates", [])
        ),
        waivers=tuple(
            Waiver(w["gate"], w["reason"], w.get("approved_by", ""), w.get("expires", ""))
            for w in d.get("waivers", [])
        ),
        triggers=tuple(
            Trigger(
                id=t["id"],
                kind=t["kind"],
                because=t["because"],
                threshold=t.get("threshold"),
                ratio=t.get("ratio"),
                consecutive_quarters=int(t.get("consecutive_quarters", 1)),
                tiers=tuple(t.get("tiers", ())),
                after_firing=t.get("after_firing", "open"),
            )
            for t in d.get("recalibration", {}).get("triggers", [])
        ),
        transitions=tuple(
            TransitionRule(r["id"], r["action"], r["when"], r["because"], r.get("to", "evaluated"))
            for r in trans.get("rules", [])
        ),
        min_dwell_quarters=int(trans.get("min_dwell_quarters", 1)),
        transition_signals=dict(trans.get("signals", {})),
        alignment=dict(d.get("alignment", {})),
        current_book=_current_book(d.get("current_book", {})),
        metadata=dict(meta),
        raw=d,
        overrides=dict(d.get("overrides", {})),
    )


def _current_book(d: dict[str, Any]) -> CurrentBook:
    return CurrentBook(
        labels=dict(d.get("labels", {})),
        export=dict(d.get("export", {})),
        complexity=d.get("complexity"),
        complexity_neutral=float(d.get("complexity_neutral", 1.0)),
    )


def load_ruleset(path: str, display: str | None = None) -> Ruleset:
    doc = load_file(path, display)
    return ruleset_from_document(doc)


def ruleset_from_document(doc: Document) -> Ruleset:
    problems = check_document(doc)
    if problems:
        raise RulesetError(f"{doc.file}: invalid ruleset", problems)
    return build_model(doc, content_hash(doc))
