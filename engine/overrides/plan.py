"""Overrides in `tierbook plan`: each side's effective tiers, and the overridden accounts a
ruleset change would move if an override did not pin them (listed apart from the moves)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..assess.result import SegmentResult
    from .apply import Applied


class Plan(Protocol):
    """What these read of a plan (``commands.plan.Plan``): its two sides and the accounts
    an override pins."""

    @property
    def base(self) -> SegmentResult: ...
    @property
    def head(self) -> SegmentResult: ...
    @property
    def pinned(self) -> list[dict[str, Any]]: ...


def effective(result: SegmentResult) -> dict[str, Applied]:
    """Account id -> its overrides in force on that side (none without an overrides file)."""
    if result.overrides is None:
        return {}
    ids = result.evaluation.account_ids()
    return {ids[i]: a for i, a in result.overrides.applied.items()}


def pinned_moves(
    before: dict[str, Any],
    after: dict[str, Any],
    over_b: dict[str, Applied],
    over_a: dict[str, Applied],
    arr_field: str,
) -> list[dict[str, Any]]:
    """Accounts whose rules' tier changes between the sides while an override keeps their
    effective tier: what the change would do to them if they were not pinned."""
    out = []
    for account_id, oa in sorted(over_a.items()):
        b, a = before.get(account_id), after.get(account_id)
        if b is None or a is None or b.tier == a.tier:
            continue
        ob = over_b.get(account_id)
        if (ob.tier if ob else b.tier) != oa.tier:
            continue  # (its effective tier moves: it is one of the plan's moves)
        out.append(
            {
                "account_id": account_id,
                "arr": float(a.values.get(arr_field) or 0.0),
                "rules_before": b.tier,
                "rules_after": a.tier,
                "tier": oa.tier,
                "overrides": [o.id for o in oa.overrides if o.tier],
            }
        )
    out.sort(key=lambda m: (-m["arr"], m["account_id"]))
    return out


def plan_overrides_json(p: Plan) -> dict[str, Any]:
    """The plan JSON's `overrides` key, only when a side had an overrides file."""
    sides = [p.base.overrides, p.head.overrides]
    if all(s is None for s in sides):
        return {}
    return {
        "overrides": {
            "base": None if sides[0] is None else sides[0].as_json(p.base.ruleset.tier_ids),
            "head": None if sides[1] is None else sides[1].as_json(p.head.ruleset.tier_ids),
            "pinned": p.pinned,
        }
    }


def plan_lines(p: Plan, limit: int) -> list[str]:
    """Text lines for `plan`'s output: the overrides on each side and the pinned accounts."""
    sides = [p.base.overrides, p.head.overrides]
    if all(s is None for s in sides):
        return []
    from .report import summary_line

    out = [""]
    for label, side in zip(("base", "head"), sides, strict=True):
        out.append(f"{label} {summary_line(side) if side else 'overrides: none'}")
    if p.pinned:
        out.append(f"{len(p.pinned)} overridden account(s) the change would move if not pinned:")
        for m in p.pinned[:limit]:
            out.append(
                f"  {m['account_id']} rules {m['rules_before']} -> {m['rules_after']}, pinned to "
                f"{m['tier']} by {', '.join(m['overrides'])} (ARR ${m['arr']:,.2f})"
            )
    return out
