"""Decision traces: firing records for the store, condition details and "why not".

The store keeps each class's firing path once; an account's own values are stored beside
it, so the details below are rebuilt from the ruleset and the values, exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from ..evaluate.bands import ResolvedBands
from ..network import conditions as C
from ..network.model import Network
from ..ruleset.model import Band


def firing_records(network: Network, path: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    out = []
    for seq, (index, _) in enumerate(path, start=1):
        rule = network.rules[index]
        derived = {k: v for k, v in rule.output.items()}
        out.append(
            {
                "seq": seq,
                "rule_id": rule.id,
                "kind": rule.kind,
                "because": rule.because,
                "derived": derived,
            }
        )
    return out


def path_decided(network: Network, path: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """What a firing path decides, the same for every account on it."""
    from ..evaluate.decisions import Decision, decode

    d = Decision("", {}, {}, 0)
    decode(network, d, path)
    return {
        "tier": d.tier,
        "cell": d.cell,
        "flags": d.flags,
        "bands": d.bands,
        "decisions": d.decisions,
        "comments": d.comments,
        "reviews": d.reviews,
        "motion": d.motion,
    }


def bands_to_json(bands: dict[str, ResolvedBands]) -> dict[str, Any]:
    return {
        k: {
            "over": rb.over,
            "method": rb.method,
            "declared_method": rb.declared_method,
            "reason": rb.reason,
            "figures": rb.figures,
            "bands": [asdict(b) for b in rb.bands],
        }
        for k, rb in bands.items()
    }


def bands_from_json(data: dict[str, Any]) -> dict[str, ResolvedBands]:
    out = {}
    for k, v in data.items():
        bands = []
        for b in v["bands"]:
            for key in ("target_account_share", "target_arr_share"):
                if b.get(key) is not None:
                    b[key] = tuple(b[key])
            bands.append(Band(**b))
        out[k] = ResolvedBands(
            k, v["over"], v["method"], v["declared_method"], tuple(bands), v["reason"], v["figures"]
        )
    return out


def decided_lookup(record: dict[str, Any]) -> dict[str, Any]:
    """Everything a condition may read for one account: values, bands, decisions, tier."""
    values = dict(record["inputs"])
    values.update(record.get("scores", {}))
    values.update(record.get("bands", {}))
    values.update(record.get("decisions", {}))
    values["tier"] = record.get("tier")
    return values


def condition_details(
    cond: dict[str, Any] | None,
    values: dict[str, Any],
    flags: Sequence[str],
    rows: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Each comparison of a condition with the account's value and its outcome."""
    if cond is None:
        return []
    out = []
    for _, leaf in C.iter_leaves(cond):
        if "flag" in leaf:
            out.append(
                {
                    "condition": C.describe(leaf),
                    "field": f"flag {leaf['flag']}",
                    "value": leaf["flag"] in flags,
                    "result": leaf["flag"] in flags,
                }
            )
            continue
        if "event" in leaf:
            continue
        op, arg = C.leaf_op(leaf)
        value = values.get(leaf["field"])
        result = C.compare(op, value, arg)
        if rows and leaf["field"] in rows and not result and op in ("eq", "in", "ne", "not_in"):
            result = C.compare(op, rows[leaf["field"]], arg) or result
        out.append(
            {
                "condition": C.describe(leaf),
                "field": leaf["field"],
                "value": value,
                "result": "unknown" if result is None else result,
            }
        )
    return out


def show_value(value: Any) -> str:
    """A value as a person reads it: blank, true/false, thousands separators."""
    if value is None:
        return "blank"
    if isinstance(value, bool):
        return "true" if value else "false"
    return _fmt(value)


def _fmt(value: Any) -> str:
    """A number exactly as stored (never rounded: 999.99 is not 1,000), with thousands
    separators; a whole float without its `.0`."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,}"
    return str(value)


def why_not_grid(network: Network, record: dict[str, Any], limit: int = 3) -> list[str]:
    """Nearest cells that did not apply, with the band condition each one needs."""
    rs = network.ruleset
    g = rs.grid
    values = record["inputs"] | record.get("scores", {})
    rows_of = {k: v for k, v in record.get("rows", {}).items()}
    out = []
    options = []
    for cell in g.cells:
        if cell.tier == record["tier"]:
            continue
        needs, cost = [], 0.0
        for set_id, wanted in ((g.rows, cell.row), (g.columns, cell.column)):
            if not set_id or rows_of.get(set_id) == wanted:
                continue
            rb = network.bands[set_id]
            members = [b for b in rb.bands if b.row == wanted]
            lo, hi = members[0], members[-1]
            span = Band("x", lo.lower, lo.lower_inclusive, hi.upper, hi.upper_inclusive)
            value = values.get(rb.over)
            needs.append(f"{rb.over} were {span.interval_text(_fmt)}; it is {_fmt(value)}")
            cost += _relative_gap(value, span)
        if needs:
            options.append((len(needs), cost, cell.id, cell, needs))
    seen_tiers: set[str] = set()
    for _, _, _, cell, needs in sorted(options, key=lambda o: (o[0], o[1], o[2])):
        if cell.tier in seen_tiers:
            continue
        seen_tiers.add(cell.tier)
        out.append(f"would be {cell.tier} (cell {cell.id}) if " + " and ".join(needs))
        if len(out) >= limit:
            break
    return out


def _relative_gap(value: Any, span: Band) -> float:
    """How far a value must move, relative to itself, to enter the interval."""
    if value is None:
        return float("inf")
    target = value
    if span.lower is not None and value < span.lower:
        target = span.lower
    elif span.upper is not None and value > span.upper:
        target = span.upper
    gap: float = abs(target - value) / max(abs(value), 1e-9)
    return gap


def why_not_flags(network: Network, record: dict[str, Any]) -> list[str]:
    """For each flag not raised, the comparisons that kept it down."""
    values = decided_lookup(record)
    out = []
    for flag in network.ruleset.flags:
        if flag.id in record["flags"]:
            continue
        failed = [
            d
            for d in condition_details(flag.when, values, record["flags"], record.get("rows"))
            if d["result"] is not True
        ]
        text = "; ".join(
            f"{d['condition']} ({d['field']} is {show_value(d['value'])})" for d in failed[:3]
        )
        out.append(f"not {flag.id}: {text}")
    return out
