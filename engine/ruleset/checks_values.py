"""Semantic checks of derived values and scores: operations, operands, weights."""

from __future__ import annotations

from itertools import pairwise

from ..portfolio.cells import NUMERIC_TYPES
from .checks_base import (
    DERIVED_OPS,
    WEIGHT_TOLERANCE,
    CheckerBase,
)


class ValueChecks(CheckerBase):
    def check_derived(self) -> None:
        for i, item in enumerate(self.d.get("derived", [])):
            op = next(o for o in DERIVED_OPS if o in item)
            args = item[op] if isinstance(item[op], list) else [item[op]]
            for j, arg in enumerate(args):
                path = ("derived", i, op, j) if isinstance(item[op], list) else ("derived", i, op)
                if op in ("days_since", "days_until"):
                    if (
                        self.ref(arg, path, ("input", "derived"), "value")
                        and self.value_types.get(arg) != "date"
                    ):
                        self.error(path, f"'{arg}' is not a date input")
                elif self.ref(
                    arg, path, ("input", "derived"), "operand (an input or derived value)"
                ) and self.value_types.get(arg) not in NUMERIC_TYPES | {"number"}:
                    self.error(
                        path,
                        f"'{arg}' is a {self.value_types.get(arg)} value; operand must be numeric",
                        "type",
                    )

    def check_scores(self) -> None:
        for i, s in enumerate(self.d.get("scores", [])):
            comps = s["components"]
            self._unique(
                ((c["id"], ("scores", i, "components", j, "id")) for j, c in enumerate(comps)),
                "component",
            )
            for j, c in enumerate(comps):
                p = ("scores", i, "components", j)
                if "input" in c:
                    self.numeric_ref(c["input"], p + ("input",), "component input")
                    if not c.get("scoring") and self.value_types.get(c["input"]) not in (
                        "ratio",
                        "number",
                        None,
                    ):
                        self.error(
                            p + ("input",),
                            f"'{c['input']}' is a {self.value_types.get(c['input'])} value, "
                            "not 0-1: give a 'scoring' (divide_by, points or thresholds)",
                        )
                else:
                    self.condition(c["when"], p + ("when",))
                if s["method"] == "weighted" and "weight" not in c:
                    self.error(p, "weighted score component needs a 'weight'", "missing-weight")
                if s["method"] == "count" and "weight" in c:
                    self.error(p + ("weight",), "count scores take no weights")
                points = c.get("scoring", {}).get("points")
                if points and any(b[0] <= a[0] for a, b in pairwise(points)):
                    self.error(p + ("scoring", "points"), "points must have increasing values")
                thresholds = c.get("scoring", {}).get("thresholds", [])
                bounds = [t.get("gte", t.get("gt")) for t in thresholds]
                if any(b is None for b in bounds):
                    self.error(p + ("scoring", "thresholds"), "each threshold needs gte or gt")
                elif any(b2 > b1 for b1, b2 in pairwise(bounds)):
                    self.error(
                        p + ("scoring", "thresholds"),
                        "thresholds must be ordered from the highest bound down "
                        "(a later row would be shadowed)",
                        "shadowed-rule",
                    )
            if s["method"] == "weighted":
                total = sum(c.get("weight", 0) for c in comps)
                if total == 0:
                    self.error(("scores", i, "components"), "every weight is 0", "weights")
                elif abs(total - 1.0) > WEIGHT_TOLERANCE and not (
                    total < 1.0 and any(c.get("weight", 0) == 0 for c in comps)
                ):  # (a factor switched off with weight 0: the others share its weight)
                    self.error(
                        ("scores", i, "components"),
                        f"weights of '{s['id']}' sum to {round(total, 6):g}, not 1.0",
                        "weights",
                    )
