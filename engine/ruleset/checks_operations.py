"""Semantic checks of capacity, quality gates, re-calibration triggers and alignment."""

from __future__ import annotations

from ..errors import suggest
from .checks_base import (
    CheckerBase,
    Path,
)


class OperationChecks(CheckerBase):
    def check_capacity_gates_triggers(self) -> None:
        cap = self.d.get("capacity", {})
        for tier in cap.get("csms_available", {}):
            if tier not in self.tiers:
                self.error(
                    ("capacity", "csms_available", tier),
                    f"unknown tier '{tier}'" + suggest(tier, self.tiers),
                    "unknown-tier",
                )
        calib = cap.get("calibration")
        if calib:
            if calib["tier"] not in self.tiers:
                self.error(
                    ("capacity", "calibration", "tier"),
                    f"unknown tier '{calib['tier']}'" + suggest(calib["tier"], self.tiers),
                    "unknown-tier",
                )
            for i, lever in enumerate(calib["levers"]):
                p: Path = ("capacity", "calibration", "levers", i)
                if not self.ref(lever["band"], p + ("band",), ("band",), "band set"):
                    continue
                if lever["lower_of"] not in self.band_ids[lever["band"]]:
                    self.error(
                        p + ("lower_of",),
                        f"unknown band '{lever['lower_of']}'"
                        + suggest(lever["lower_of"], self.band_ids[lever["band"]]),
                    )
                if ("step" in lever) == ("factor" in lever):
                    self.error(p, "give exactly one of step or factor")
                if "min" in lever and "max" in lever and lever["min"] > lever["max"]:
                    self.error(p + ("min",), "min is greater than max")
        gate_ids = [g["id"] for g in self.d.get("gates", [])]
        for i, g in enumerate(self.d.get("gates", [])):
            p = ("gates", i)
            if g["kind"] == "tier_share_cap":
                if "tier" not in g or "max_share" not in g:
                    self.error(p, "tier_share_cap needs 'tier' and 'max_share'")
                elif g["tier"] not in self.tiers:
                    self.error(
                        p + ("tier",),
                        f"unknown tier '{g['tier']}'" + suggest(g["tier"], self.tiers),
                        "unknown-tier",
                    )
        for i, w in enumerate(self.d.get("waivers", [])):
            if w["gate"] not in gate_ids:
                self.error(
                    ("waivers", i, "gate"),
                    f"unknown gate '{w['gate']}'" + suggest(w["gate"], gate_ids),
                    "unknown-reference",
                )
        self._unique(
            ((w["gate"], ("waivers", i, "gate")) for i, w in enumerate(self.d.get("waivers", []))),
            "waiver",
        )
        for i, t in enumerate(self.d.get("recalibration", {}).get("triggers", [])):
            p = ("recalibration", "triggers", i)
            need = {
                "tier_arr_change": "threshold",
                "capacity_change": "threshold",
                "tier_churn_over_target": "ratio",
            }.get(t["kind"])
            if need and need not in t:
                self.error(p, f"trigger kind {t['kind']} needs '{need}'")
            for j, tier in enumerate(t.get("tiers", [])):
                if tier not in self.tiers:
                    self.error(
                        p + ("tiers", j),
                        f"unknown tier '{tier}'" + suggest(tier, self.tiers),
                        "unknown-tier",
                    )
        for i, t in enumerate(self.d["tiers"]):
            b = t.get("book_size")
            if b and "max" in b and b["min"] > b["max"]:
                self.error(("tiers", i, "book_size", "min"), "book size min is greater than max")
            if (
                b
                and "target" in b
                and (b["target"] < b["min"] or ("max" in b and b["target"] > b["max"]))
            ):
                self.error(("tiers", i, "book_size", "target"), "target is outside min..max")

    def check_alignment(self) -> None:
        a = self.d.get("alignment")
        if not a:
            return
        self.ref(a["current"], ("alignment", "current"), ("input",), "input")
        e = a.get("expansion")
        if e:
            self.numeric_ref(e["potential"], ("alignment", "expansion", "potential"), "potential")
            if "readiness" in e:
                self.numeric_ref(
                    e["readiness"], ("alignment", "expansion", "readiness"), "readiness"
                )
            for j, sig in enumerate(e.get("signals", [])):
                if sig not in self.flags and self.value_types.get(sig) != "boolean":
                    self.error(
                        ("alignment", "expansion", "signals", j),
                        f"signal '{sig}' is neither a boolean input nor a flag"
                        + suggest(
                            sig,
                            self.flags + [k for k, t in self.value_types.items() if t == "boolean"],
                        ),
                        "unknown-reference",
                    )
        t = a.get("territory")
        if t:
            self.ref(t["csm"], ("alignment", "territory", "csm"), ("input",), "input")
            if "complexity" in t:
                self.numeric_ref(
                    t["complexity"], ("alignment", "territory", "complexity"), "complexity"
                )

    def check_current_book(self) -> None:
        book = self.d.get("current_book")
        if not book:
            return
        roles = [i.get("role") for i in self.d.get("inputs", [])]
        if book.get("labels") and "current_tier" not in roles:
            self.error(
                ("current_book", "labels"),
                "labels map the current tier, but no input has role current_tier",
                "unknown-reference",
            )
        for part in ("labels", "export"):
            for key, value in book.get(part, {}).items():
                tier = value if part == "labels" else key
                if tier not in self.tiers:
                    self.error(
                        ("current_book", part, key),
                        f"unknown tier '{tier}'" + suggest(tier, self.tiers),
                        "unknown-tier",
                    )
        if "complexity" in book:
            self.numeric_ref(book["complexity"], ("current_book", "complexity"), "complexity")

    # -- dependencies --------------------------------------------------------------------
