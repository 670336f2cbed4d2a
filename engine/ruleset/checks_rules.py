"""Semantic checks of decision tables, flags, contradictions, review hints and other declarations."""

from __future__ import annotations

from ..errors import suggest
from ..network import conditions as C
from .checks_base import (
    CheckerBase,
    Path,
)


class RuleChecks(CheckerBase):
    def check_rules(self) -> None:
        for i, dec in enumerate(self.d.get("decisions", [])):
            rules = dec["rules"]
            for j, r in enumerate(rules):
                self.condition(
                    r["when"], ("decisions", i, "rules", j, "when"), rule=f"rule '{r['id']}'"
                )
            policy = dec["hit_policy"]
            for j, r in enumerate(rules):
                for k in range(j):
                    earlier = rules[k]
                    if policy == "first" and C.implies(r["when"], earlier["when"]):
                        self.error(
                            ("decisions", i, "rules", j),
                            f"rule '{r['id']}' is shadowed by '{earlier['id']}': whenever it "
                            "applies, the earlier rule already decided (hit policy first)",
                            "shadowed-rule",
                        )
                    if policy == "unique" and C.overlap(r["when"], earlier["when"]):
                        self.error(
                            ("decisions", i, "rules", j),
                            f"rules '{earlier['id']}' and '{r['id']}' can both apply, but the "
                            "hit policy is unique",
                            "hit-policy",
                        )
            if policy == "priority":
                prios = [r.get("priority") for r in rules]
                if None in prios:
                    self.error(
                        ("decisions", i, "hit_policy"),
                        "hit policy priority needs a 'priority' on every rule",
                    )
        for i, f in enumerate(self.d.get("flags", [])):
            self.condition(f["when"], ("flags", i, "when"), rule=f"flag '{f['id']}'")
        for i, r in enumerate(self.d.get("review_hints", [])):
            self.condition(r["when"], ("review_hints", i, "when"), rule=f"review hint '{r['id']}'")
        for kind, when in self.d.get("transitions", {}).get("signals", {}).items():
            self.condition(when, ("transitions", "signals", kind), rule=f"signal '{kind}'")
        trans = self.d.get("transitions", {}).get("rules", [])
        for i, r in enumerate(trans):
            p = ("transitions", "rules", i)
            self.condition(r["when"], p + ("when",), transitions=True, rule=f"rule '{r['id']}'")
            to = r.get("to", "evaluated")
            if to not in ("evaluated", "next") and to not in self.tiers:
                self.error(
                    p + ("to",), f"unknown tier '{to}'" + suggest(to, self.tiers), "unknown-tier"
                )
            for k in range(i):
                if C.implies(r["when"], trans[k]["when"]):
                    self.error(
                        p,
                        f"rule '{r['id']}' is shadowed by '{trans[k]['id']}' (hit policy first)",
                        "shadowed-rule",
                    )

    def check_flags_and_declarations(self) -> None:
        pairs: dict[frozenset[str], Path] = {}
        for i, c in enumerate(self.d.get("contradictions", [])):
            for j, flag in enumerate(c["flags"]):
                if flag not in self.flags:
                    self.error(
                        ("contradictions", i, "flags", j),
                        f"unknown flag '{flag}'" + suggest(flag, self.flags),
                        "unknown-flag",
                    )
            pairs[frozenset(c["flags"])] = ("contradictions", i)
        for i, c in enumerate(self.d.get("compatible", [])):
            p = ("compatible", i)
            if "tier" in c and c["tier"] not in self.tiers:
                self.error(
                    p + ("tier",),
                    f"unknown tier '{c['tier']}'" + suggest(c["tier"], self.tiers),
                    "unknown-tier",
                )
            flags = c.get("flags", [])
            for j, flag in enumerate(flags):
                if flag not in self.flags:
                    self.error(
                        p + ("flags", j),
                        f"unknown flag '{flag}'" + suggest(flag, self.flags),
                        "unknown-flag",
                    )
            for pair, where in pairs.items():
                if pair <= set(flags):
                    line = self.doc.where(where)[0]
                    self.error(
                        p,
                        f"declares {' + '.join(sorted(pair))} compatible, but the "
                        f"contradiction on line {line} says they contradict "
                        "(contradictory declarations)",
                        "contradiction",
                    )
