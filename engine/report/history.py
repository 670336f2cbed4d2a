"""`tierbook history ACCOUNT_ID` as text: one line per quarter (the tier, the move and the
rule behind it, the ARR at the end of the quarter) and, under each quarter where something
happened to the account, the events behind it."""

from __future__ import annotations

from typing import Any

_AMOUNTS = {"renewal": "to ", "expansion": "+", "contraction": "-", "reactivation": "at "}


def _event(e: dict[str, Any]) -> str:
    kind, fields = e["type"], e.get("fields", {})
    if kind in _AMOUNTS and "arr" in fields:
        detail = f" {_AMOUNTS[kind]}${float(fields['arr']):,.2f}"
    elif fields:
        detail = " " + ", ".join(f"{k}={v}" for k, v in fields.items())
    else:
        detail = ""
    return f"{kind}{detail} (line {e['line']})"


def _what(r: dict[str, Any]) -> str:
    if r["outcome"] == "moved":
        return f"{r['from_tier']} -> {r['to_tier']}  ({r['rule_id']}: {r['because']})"
    if r["outcome"] == "churned":
        joined = " (joined this quarter)" if r["because"].startswith("joined") else ""
        return f"churned (held in {r['from_tier']}){joined}"
    if r["outcome"] == "joined":
        return f"joined {r['to_tier']}"
    if r["outcome"] == "reactivated":
        return f"reactivated in {r['to_tier']}"
    if r["outcome"] in ("held", "review"):
        return (
            f"{r['from_tier']}, {r['outcome']}: evaluated {r['evaluated_tier']} "
            f"({r['rule_id']}: {r['because']})"
        )
    return (
        str(r["to_tier"])
        + (
            f" (evaluated {r['evaluated_tier']}, no rule moves it)"
            if r["evaluated_tier"] != r["to_tier"]
            else ""
        )
        + (f" ({r['because']})" if str(r.get("rule_id") or "").startswith("override:") else "")
    )  # (a stay an override started or ended in says so: docs/overrides.md)


def render_history(about: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The replay answered from (its runs, ruleset and input), then one line a quarter."""
    rs, runs = about["ruleset"], about["runs"]
    out = [
        f"{about['account_id']} · replay {about['replay_id']} (runs {runs[0]}-{runs[-1]}) · "
        f"ruleset {rs['name']} {rs['version']} ({rs['sha256'][:12]}) · input "
        f"{about['input_file']}"
    ]
    for r in rows:
        arr = "" if r.get("arr") is None else f"  ARR ${r['arr']:,.0f}"
        flags = f"  flags: {', '.join(r['flags'])}" if r["flags"] else ""
        out.append(f"  {r['quarter']}  {_what(r)}{arr}{flags}")
        if r["outcome"] != "stay" and r.get("events"):
            out.append(f"          events: {'; '.join(_event(e) for e in r['events'])}")
    return out
