"""`tierbook explain`: an account's decision chain, read back from the trace store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import StoreError
from ..network.compile import compile_network
from ..ruleset.build import ruleset_from_document
from ..ruleset.model import Ruleset
from ..ruleset.yamlsafe import load_text
from .record import bands_from_json, condition_details, decided_lookup, why_not_flags, why_not_grid
from .record import show_value as _fmt
from .store import TraceStore

LEVELS = ("full", "fired", "why-not")


def overridden(db: Any, run_id: int, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each account's overrides in the run (``run_overrides``): the effective tier and
    flags beside the rules' ones; nothing for an account none applied to."""
    from ..overrides.trace import read_overrides

    found = read_overrides(db, run_id, account_ids)
    return {a: {"override": found[a]} if a in found else {} for a in account_ids}


def explain(store: TraceStore, account_id: str, run_id: int | None = None) -> dict[str, Any]:
    return Explainer(store, run_id).explain(account_id)


class Explainer:
    """Accounts of one stored run explained, the run's ruleset compiled once for them all
    (`tierbook explain` asks for one; report.html for many).  ``unfinished``: the run may
    still be running -- only for the process writing it, whose files are made from it
    before it is marked complete; ``ruleset``: that process's ruleset, as it read it from
    the text the run stored (not re-read when its hash is the run's)."""

    def __init__(
        self,
        store: TraceStore,
        run_id: int | None = None,
        *,
        unfinished: bool = False,
        ruleset: Ruleset | None = None,
    ) -> None:
        self.store = store
        self.run = store.run(run_id, unfinished=unfinished)
        run = self.run
        if ruleset is not None and ruleset.sha256 == run["ruleset_sha256"]:
            self.ruleset = ruleset  # (the caller's, read from the text the run stored)
        else:
            text = store.ruleset_text(run["ruleset_sha256"])
            self.ruleset = ruleset_from_document(
                load_text(text, f"{run['ruleset_name']}@{run['ruleset_version']}")
            )
        self.network = compile_network(self.ruleset, bands_from_json(run["bands"]))

    def explain(self, account_id: str) -> dict[str, Any]:
        return self.explain_many([account_id])[account_id]

    def explain_many(self, account_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``explain`` of each account, the run's rows read for them all in a few queries."""
        run_id = self.run["run_id"]
        records = self.store.decisions(run_id, account_ids)
        defaults = self.store.defaults_of(run_id, account_ids)
        overrides = overridden(self.store.db, run_id, account_ids)
        return {a: self._explained(a, records[a], defaults[a]) | overrides[a] for a in account_ids}

    def _explained(
        self, account_id: str, record: dict[str, Any], stored_defaults: dict[str, str]
    ) -> dict[str, Any]:
        run, ruleset, network = self.run, self.ruleset, self.network
        record["rows"] = {}
        for set_id, band_id in record["bands"].items():
            rb = network.bands.get(set_id)
            if rb:
                record["rows"][set_id] = next(b.row for b in rb.bands if b.id == band_id)
        lookup = decided_lookup(record)
        firings = []
        for f in record["firings"]:
            rule = network.rule(f["rule_id"])
            firings.append(
                {
                    "seq": f["seq"],
                    "rule_id": f["rule_id"],
                    "kind": f["kind"],
                    "because": f["because"],
                    "ruleset": {
                        "name": run["ruleset_name"],
                        "version": run["ruleset_version"],
                        "sha256": run["ruleset_sha256"],
                    },
                    "conditions": condition_details(
                        rule.condition, lookup, record["flags"], record["rows"]
                    )
                    if rule.condition
                    else _implicit(rule, record),
                    "derived": f["derived"],
                }
            )
        scores = {k: v for k, v in record["scores"].items() if not k.endswith(".parts")}
        parts = {k[:-6]: v for k, v in record["scores"].items() if k.endswith(".parts")}
        used = sorted(_inputs_used(ruleset, firings, record["inputs"]))
        declared = {i.id: i.default for i in ruleset.inputs}
        defaulted = {
            name: f"default; {why}"
            for name, why in stored_defaults.items()
            if declared.get(name) is not None
        }
        return {
            "account_id": account_id,
            "run": {
                "run_id": run["run_id"],
                "command": run["command"],
                "as_of": run["as_of"],
                "engine": run["engine"],
                "input_file": run["input_file"],
            },
            "ruleset": {
                "name": run["ruleset_name"],
                "version": run["ruleset_version"],
                "sha256": run["ruleset_sha256"],
            },
            "inputs": {k: record["inputs"].get(k) for k in used},
            "defaulted": defaulted,
            "scores": scores,
            "score_parts": parts,
            "bands": record["bands"],
            "cell": record["cell"],
            "tier": record["tier"],
            "flags": record["flags"],
            "decisions": record["decisions"],
            "comments": record["comments"],
            "reviews": record["reviews"],
            "motion": record["motion"],
            "firings": firings,
            "why_not": {
                "tier": why_not_grid(network, record),
                "flags": why_not_flags(network, record),
            },
        }


def _inputs_used(ruleset: Any, firings: list[dict[str, Any]], inputs: dict[str, Any]) -> set[str]:
    """Inputs and derived values behind the fired conditions and the scores, with the
    inputs each derived value is computed from."""
    from ..network import conditions as C

    names = {c["field"] for f in firings for c in f["conditions"]}
    for s in ruleset.scores:
        for c in s.components:
            if c.input:
                names.add(c.input)
            elif c.when:
                names |= {leaf["field"] for _, leaf in C.iter_leaves(c.when) if "field" in leaf}
    derived = {d.id: d for d in ruleset.derived}
    pending = list(names)
    while pending:
        name = pending.pop()
        for arg in derived[name].args if name in derived else ():
            if arg not in names:
                names.add(arg)
                pending.append(arg)
    return {n for n in names if n in inputs}


def _implicit(rule: Any, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Conditions of rules without a written condition (grid cells, motion, defaults)."""
    out = []
    for d in rule.disjuncts[:1]:
        for p in d.facts:
            attrs = dict(p.attrs)
            if p.type == "band":
                set_id = attrs["set"][0]
                wanted: Any = attrs.get("row", attrs.get("band"))  # the allowed names
                actual = (
                    record["rows"].get(set_id) if "row" in attrs else record["bands"].get(set_id)
                )
                out.append(
                    {
                        "condition": f"{set_id} {'row' if 'row' in attrs else 'band'} = {wanted[0]}",
                        "field": set_id,
                        "value": actual,
                        "result": actual in wanted,
                    }
                )
            elif p.type == "tier":
                out.append(
                    {
                        "condition": f"tier = {attrs['tier'][0]}",
                        "field": "tier",
                        "value": record["tier"],
                        "result": record["tier"] in attrs["tier"],
                    }
                )
    return out


def _shown(x: dict[str, Any], name: str, value: Any) -> str:
    """A value as stored, and where it was not in the data, why: `0 (default; blank)`."""
    why = x.get("defaulted", {}).get(name)
    return f"{_fmt(value)} ({why})" if why else _fmt(value)


def render_text(x: dict[str, Any], level: str = "full") -> str:
    if level not in LEVELS:
        raise StoreError(f"unknown level '{level}' (choose {', '.join(LEVELS)})")
    rs, run = x["ruleset"], x["run"]
    tier, flags = (
        (x["override"]["tier"], x["override"]["flags"])
        if "override" in x
        else (x["tier"], x["flags"])
    )
    out = [
        f"{x['account_id']}: {tier}" + (f" + {', '.join(flags)}" if flags else ""),
        *([f"  override: {x['override']['text']}"] if "override" in x else []),
        f"  ruleset {rs['name']} {rs['version']} ({rs['sha256'][:12]}) · run {run['run_id']} "
        f"({run['command']}, as of {run['as_of']}) · engine {run['engine']}",
        f"  input {run['input_file']}",
    ]
    if level in ("full", "fired"):
        if level == "full":
            out.append("├─ inputs used")
            for k, v in x["inputs"].items():
                out.append(f"│    {k} = {_shown(x, k, v)}")
            out.append("├─ scores")
            for k, v in x["scores"].items():
                parts = x["score_parts"].get(k) or {}
                detail = ", ".join(f"{p} {_fmt(s)}" for p, s in parts.items())
                if v is not None and None in parts.values():  # (when_unknown: renormalise)
                    detail += "; scored over the known components only"
                out.append(f"│    {k} = {_fmt(v)}" + (f"  ({detail})" if detail else ""))
        out.append("├─ rules fired")
        for f in x["firings"]:
            out.append(f"│  {f['seq']:>2}. [{f['kind']}] {f['rule_id']}: {f['because']}")
            for c in f["conditions"]:
                mark = "✓" if c["result"] is True else ("?" if c["result"] == "unknown" else "✗")
                shown = _shown(x, c["field"], c["value"])
                out.append(f"│        {mark} {c['condition']}  ({c['field']} = {shown})")
            derived = {k: v for k, v in f["derived"].items() if k != "t"}
            out.append(
                f"│        → {f['derived']['t']} "
                + ", ".join(f"{k}={v}" for k, v in derived.items())
            )
        for c in x["comments"]:
            out.append(f"├─ comment: {c}")
        for r in x["reviews"]:
            out.append(f"├─ review: {r}")
    if level in ("full", "why-not"):
        out.append("└─ why not")
        for line in x["why_not"]["tier"]:
            out.append(f"     {line}")
        for line in x["why_not"]["flags"]:
            out.append(f"     {line}")
    return "\n".join(out)
