"""Semantic checks of a schema-valid ruleset: references, bands, grid, weights, rules.

Each check appends located problems; nothing stops at the first one.  Names that are
close to a known one get a did-you-mean suggestion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from ..errors import Problem, suggest
from ..network import conditions as C
from ..portfolio.events import TYPES as EVENT_TYPES
from ..portfolio.headers import normalise
from .model import NUMERIC_TYPES
from .yamlsafe import Document

Path = tuple[str | int, ...]
DERIVED_OPS = ("ratio", "difference", "sum", "days_since", "days_until")
TRANSITION_FIELDS = {"evaluated_tier", "evaluated_direction", "previous_tier"}
WEIGHT_TOLERANCE = 1e-9


class _Checker:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.d: dict[str, Any] = doc.data
        self.problems: list[Problem] = []
        self.values: dict[str, tuple[str, Path]] = {}  # value id -> (kind, path)
        self.value_types: dict[str, str] = {}
        self.band_ids: dict[str, list[str]] = {}  # band set -> band ids (all variants)
        self.band_rows: dict[str, list[str]] = {}
        self.tiers = [t["id"] for t in self.d["tiers"]]
        self.flags = [f["id"] for f in self.d.get("flags", [])]
        self.decision_values: dict[str, list[Any]] = {}

    def error(self, path: Path, message: str, code: str = "semantic") -> None:
        self.problems.append(self.doc.problem(path, message, code))

    # -- names ---------------------------------------------------------------------------
    def collect_names(self) -> None:
        # columns are matched ignoring case and separators (portfolio.headers.normalise): so are aliases
        seen_alias: dict[str, tuple[str, str]] = {}
        for item in self.d["inputs"]:
            seen_alias.setdefault(normalise(item["id"]), (item["id"], item["id"]))
        for i, item in enumerate(self.d["inputs"]):
            self._value(item["id"], "input", ("inputs", i, "id"))
            self.value_types[item["id"]] = item["type"]
            for j, alias in enumerate(item.get("aliases", [])):
                key = normalise(alias)
                owner = seen_alias.get(key)
                if owner and owner[0] != item["id"]:
                    self.error(
                        ("inputs", i, "aliases", j),
                        f"alias '{alias}' is already claimed by input '{owner[0]}' "
                        f"('{owner[1]}'; columns match ignoring case and separators)",
                        "duplicate-alias",
                    )
                else:
                    seen_alias[key] = (item["id"], alias)
            self._input_checks(item, ("inputs", i))
        for i, item in enumerate(self.d.get("derived", [])):
            self._value(item["id"], "derived", ("derived", i, "id"))
            self.value_types[item["id"]] = "number"
        for i, item in enumerate(self.d.get("scores", [])):
            self._value(item["id"], "score", ("scores", i, "id"))
            self.value_types[item["id"]] = "number"
        for i, item in enumerate(self.d["bands"]):
            self._value(item["id"], "band", ("bands", i, "id"))
            self.value_types[item["id"]] = "band"
            ids, rows = [], []
            for variant in ("bands", "log", "quartile"):
                block = item.get(variant)
                bands = block if variant == "bands" else (block or {}).get("bands")
                for b in bands or []:
                    if b["id"] not in ids:
                        ids.append(b["id"])
                    if b.get("row", b["id"]) not in rows:
                        rows.append(b.get("row", b["id"]))
            self.band_ids[item["id"]] = ids
            self.band_rows[item["id"]] = rows
        for i, item in enumerate(self.d.get("decisions", [])):
            self._value(item["id"], "decision", ("decisions", i, "id"))
            self.value_types[item["id"]] = "decision"
            self.decision_values[item["id"]] = [r["value"] for r in item["rules"]] + (
                [item["default"]] if "default" in item else []
            )
        self._unique(((t["id"], ("tiers", i, "id")) for i, t in enumerate(self.d["tiers"])), "tier")
        self._unique(
            ((f["id"], ("flags", i, "id")) for i, f in enumerate(self.d.get("flags", []))), "flag"
        )
        rule_ids: list[tuple[str, Path]] = []
        for section in ("contradictions", "review_hints", "gates", "compatible"):
            rule_ids += [
                (x["id"], (section, i, "id")) for i, x in enumerate(self.d.get(section, []))
            ]
        for i, dec in enumerate(self.d.get("decisions", [])):
            rule_ids += [
                (r["id"], ("decisions", i, "rules", j, "id")) for j, r in enumerate(dec["rules"])
            ]
        rule_ids += [
            (r["id"], ("recalibration", "triggers", i, "id"))
            for i, r in enumerate(self.d.get("recalibration", {}).get("triggers", []))
        ]
        rule_ids += [
            (r["id"], ("transitions", "rules", i, "id"))
            for i, r in enumerate(self.d.get("transitions", {}).get("rules", []))
        ]
        rule_ids += [
            (r["id"], ("capacity", "calibration", "levers", i, "id"))
            for i, r in enumerate(
                self.d.get("capacity", {}).get("calibration", {}).get("levers", [])
            )
        ]
        self._unique(rule_ids, "rule")

    def _value(self, name: str, kind: str, path: Path) -> None:
        if name in self.values:
            other_kind, other = self.values[name]
            line = self.doc.where(other)[0]
            self.error(
                path,
                f"duplicate id '{name}' (already used by the {other_kind} on line {line})",
                "duplicate-id",
            )
            return
        if name in ("tier", *TRANSITION_FIELDS):
            self.error(path, f"'{name}' is reserved", "reserved-id")
        self.values[name] = (kind, path)

    def _unique(self, items: Iterable[tuple[str, Path]], kind: str) -> None:
        seen: dict[str, Path] = {}
        for name, path in items:
            if name in seen:
                line = self.doc.where(seen[name])[0]
                self.error(
                    path,
                    f"duplicate {kind} id '{name}' (first defined on line {line})",
                    "duplicate-id",
                )
            else:
                seen[name] = path

    def _input_checks(self, item: dict[str, Any], path: Path) -> None:
        kind = item["type"]
        if kind == "enum" and not item.get("values"):
            self.error(path + ("type",), "enum input needs 'values'")
        if "min" in item and "max" in item and item["min"] > item["max"]:
            self.error(path + ("min",), f"min {item['min']} is greater than max {item['max']}")
        if ("min" in item or "max" in item) and kind not in NUMERIC_TYPES:
            self.error(path + ("type",), f"min/max only apply to numeric inputs, not {kind}")
        if "default" in item:
            default = item["default"]
            ok = {
                "boolean": isinstance(default, bool),
                "string": isinstance(default, str),
                "date": isinstance(default, str),
                "enum": default in item.get("values", []),
            }.get(kind, isinstance(default, (int, float)) and not isinstance(default, bool))
            if not ok:
                self.error(path + ("default",), f"default {default!r} is not a valid {kind}")
            if item.get("required"):
                self.error(path + ("default",), "a required input cannot have a default")

    # -- references ----------------------------------------------------------------------
    def ref(self, name: str, path: Path, kinds: tuple[str, ...], what: str) -> bool:
        known = [n for n, (k, _) in self.values.items() if k in kinds]
        if name in known:
            return True
        self.error(path, f"unknown {what} '{name}'" + suggest(name, known), "unknown-reference")
        return False

    def numeric_ref(self, name: str, path: Path, what: str) -> None:
        if self.ref(name, path, ("input", "derived", "score"), what):
            kind = self.value_types.get(name)
            if kind not in NUMERIC_TYPES | {"number"}:
                self.error(path, f"'{name}' is a {kind} value; {what} must be numeric", "type")

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
                elif abs(total - 1.0) > WEIGHT_TOLERANCE:
                    self.error(
                        ("scores", i, "components"),
                        f"weights of '{s['id']}' sum to {round(total, 6):g}, not 1.0",
                        "weights",
                    )

    def check_bands(self) -> None:
        for i, b in enumerate(self.d["bands"]):
            p = ("bands", i)
            self.numeric_ref(b["over"], p + ("over",), "banded value")
            method = b["method"]
            needs = {
                "declared": ["bands"],
                "log": ["log"],
                "quartile": ["quartile"],
                "auto": ["log", "quartile"],
                "target_shares": ["bands"],
            }[method]
            for key in needs:
                if key not in b:
                    self.error(p + ("method",), f"method '{method}' needs a '{key}' block")
            for key in ("bands", "log", "quartile", "auto"):
                if key in b and key not in needs and not (key == "auto" and method == "auto"):
                    self.error(p + (key,), f"'{key}' is not used by method '{method}'")
            if "bands" in b:
                self._intervals(
                    b["bands"], p + ("bands",), bounded=method != "target_shares", method=method
                )
            if "log" in b:
                self._intervals(b["log"]["bands"], p + ("log", "bands"), bounded=True, method="log")
            if "quartile" in b:
                qb = b["quartile"]
                qs = qb.get("quantiles", [0.25, 0.5, 0.75])
                if any(q2 <= q1 for q1, q2 in pairwise(qs)):
                    self.error(p + ("quartile", "quantiles"), "quantiles must increase")
                if len(qb["bands"]) != len(qs) + 1:
                    self.error(
                        p + ("quartile", "bands"),
                        f"{len(qs)} cut points make {len(qs) + 1} bands, "
                        f"but {len(qb['bands'])} are declared",
                    )
                for j, band in enumerate(qb["bands"]):
                    if any(k in band for k in ("gt", "gte", "lt", "lte")):
                        self.error(
                            p + ("quartile", "bands", j),
                            "quartile band bounds are computed from the portfolio; "
                            "remove gt/gte/lt/lte",
                        )
            if method == "target_shares":
                for j, band in enumerate(b.get("bands", [])):
                    if "target_account_share" not in band and "target_arr_share" not in band:
                        self.error(
                            p + ("bands", j),
                            "target_shares bands need target_account_share or target_arr_share",
                        )
            ids = [band["id"] for key in ("bands",) for band in b.get(key, [])]
            self._unique(((x, p + ("bands", j, "id")) for j, x in enumerate(ids)), "band")

    def _intervals(
        self, bands: list[dict[str, Any]], path: Path, bounded: bool, method: str
    ) -> None:
        self._unique(((band["id"], path + (j, "id")) for j, band in enumerate(bands)), "band")
        if not bounded:
            return

        def lower(b: dict[str, Any]) -> tuple[float | None, bool]:
            return (b["gte"], True) if "gte" in b else (b.get("gt"), False)

        def upper(b: dict[str, Any]) -> tuple[float | None, bool]:
            return (b["lte"], True) if "lte" in b else (b.get("lt"), False)

        for j, band in enumerate(bands):
            lo, _ = lower(band)
            hi, _ = upper(band)
            lo_inc = "gte" in band
            hi_inc = "lte" in band
            if (
                lo is not None
                and hi is not None
                and (lo > hi or (lo == hi and not (lo_inc and hi_inc)))
            ):
                self.error(
                    path + (j,),
                    f"band '{band['id']}' is empty: lower bound {lo:g} "
                    f"is not below upper bound {hi:g}",
                    "band-empty",
                )
            if j > 0 and lo is None:
                self.error(
                    path + (j,),
                    f"band '{band['id']}' needs a lower bound (only the first band is open below)",
                    "band-gap",
                )
            if j < len(bands) - 1 and hi is None:
                self.error(
                    path + (j,),
                    f"band '{band['id']}' needs an upper bound (only the last band is open above)",
                    "band-gap",
                )
        for j in range(1, len(bands)):
            prev, cur = bands[j - 1], bands[j]
            (hi, hi_inc), (lo, lo_inc) = upper(prev), lower(cur)
            if hi is None or lo is None:
                continue
            name = f"'{prev['id']}' and '{cur['id']}'"
            if lo > hi or (lo == hi and not hi_inc and not lo_inc):
                self.error(
                    path + (j,),
                    f"gap between bands {name}: values from {hi:g} to {lo:g} fall in no band",
                    "band-gap",
                )
            elif lo < hi or (lo == hi and hi_inc and lo_inc):
                self.error(
                    path + (j,),
                    f"bands {name} overlap at {lo:g}" + ("" if lo == hi else f" to {hi:g}"),
                    "band-overlap",
                )

    def _check_grid_axis_open(self, set_id: str, key: str) -> None:
        """Every account needs a tier: the bands of a grid axis may not leave values out."""
        found = next(((i, b) for i, b in enumerate(self.d["bands"]) if b["id"] == set_id), None)
        if found is None:
            return
        i, b = found
        for variant in ("bands", "log"):
            block = b.get(variant)
            bands = block if variant == "bands" else (block or {}).get("bands")
            if not bands or (b["method"] == "target_shares" and variant == "bands"):
                continue
            path = ("bands", i) + ((variant,) if variant == "bands" else (variant, "bands"))
            floor = self._lowest_value(b["over"])
            first = bands[0]
            covered_below = floor is not None and (
                ("gte" in first and floor >= first["gte"])
                or ("gt" in first and floor > first["gt"])
            )
            if ("gt" in first or "gte" in first) and not covered_below:
                self.error(
                    path + (0,),
                    f"band set '{set_id}' is a grid axis ({key}): its first "
                    "band must be open below (no gt/gte), or values under it get no tier",
                    "band-gap",
                )
            if "lt" in bands[-1] or "lte" in bands[-1]:
                self.error(
                    path + (len(bands) - 1,),
                    f"band set '{set_id}' is a grid axis "
                    f"({key}): its last band must be open above (no lt/lte), or values "
                    "over it get no tier",
                    "band-gap",
                )

    def _lowest_value(self, name: str) -> float | None:
        """The smallest value a banded value can take, where the ruleset says so."""
        for item in self.d["inputs"]:
            if item["id"] == name:
                low: float | None = item.get("min")
                return low
        for s in self.d.get("scores", []):
            if s["id"] == name:
                return 0.0  # component scores are 0-1 and weights non-negative
        return None

    def check_grid(self) -> None:
        g = self.d["grid"]
        for key in ("rows", "columns"):
            if g.get(key):
                self._check_grid_axis_open(g[key], key)
        row_set = g["rows"]
        ok_rows = self.ref(row_set, ("grid", "rows"), ("band",), "band set")
        col_set = g.get("columns")
        ok_cols = col_set is None or self.ref(col_set, ("grid", "columns"), ("band",), "band set")
        rows = self.band_rows.get(row_set, []) if ok_rows else []
        cols = (self.band_rows.get(col_set, []) if col_set else [""]) if ok_cols else []
        for key, declared, known in (
            ("row_order", g.get("row_order"), rows),
            ("column_order", g.get("column_order"), cols if col_set else []),
        ):
            if declared is None or not known:
                continue
            for j, name in enumerate(declared):
                if name not in known:
                    self.error(
                        ("grid", key, j),
                        f"unknown row '{name}'" + suggest(name, known),
                        "unknown-reference",
                    )
            missing = [x for x in known if x not in declared]
            if missing:
                self.error(
                    ("grid", key), f"{key} is missing {', '.join(missing)}", "grid-incomplete"
                )
        order = g.get("column_order") or cols
        for row, value in g["cells"].items():
            p = ("grid", "cells", row)
            if rows and row not in rows:
                self.error(
                    p,
                    f"row '{row}' is not a row of band set '{row_set}'"
                    + suggest(row, rows)
                    + " (grid is over-full)",
                    "grid-overfull",
                )
            tiers = value if isinstance(value, list) else [value]
            if col_set and not isinstance(value, list):
                self.error(p, "a grid with columns needs a list of tiers per row")
            elif cols and len(tiers) != len(order):
                word = "over-full" if len(tiers) > len(order) else "incomplete"
                self.error(
                    p,
                    f"row '{row}' has {len(tiers)} cells but the grid has "
                    f"{len(order)} columns ({', '.join(order)}): grid is {word}",
                    "grid-overfull" if len(tiers) > len(order) else "grid-incomplete",
                )
            for j, tier in enumerate(tiers):
                if tier not in self.tiers:
                    self.error(
                        p + ((j,) if isinstance(value, list) else ()),
                        f"unknown tier '{tier}'" + suggest(tier, self.tiers),
                        "unknown-tier",
                    )
        for row in rows:
            if row not in g["cells"]:
                self.error(
                    ("grid", "cells"),
                    f"grid is incomplete: no cells for row '{row}'",
                    "grid-incomplete",
                )
        used = {t for v in g["cells"].values() for t in (v if isinstance(v, list) else [v])}
        for i, tier in enumerate(self.tiers):
            if tier not in used:
                self.error(
                    ("tiers", i, "id"),
                    f"tier '{tier}' is in no grid cell: it is unreachable",
                    "unreachable-tier",
                )

    # -- conditions ----------------------------------------------------------------------
    def condition(
        self, cond: dict[str, Any], path: Path, transitions: bool = False, rule: str = ""
    ) -> None:
        for leaf_path, leaf in C.iter_leaves(cond):
            p = path + leaf_path
            if "flag" in leaf:
                if leaf["flag"] not in self.flags:
                    self.error(
                        p + ("flag",),
                        f"unknown flag '{leaf['flag']}'" + suggest(leaf["flag"], self.flags),
                        "unknown-flag",
                    )
                continue
            if "event" in leaf:
                if not transitions:
                    self.error(p + ("event",), "event conditions are only allowed in transitions")
                elif leaf["event"] not in EVENT_TYPES:
                    self.error(
                        p + ("event",),
                        f"unknown event type '{leaf['event']}'"
                        + suggest(leaf["event"], EVENT_TYPES),
                    )
                continue
            self._leaf(leaf, p, transitions)
        reason = C.unsatisfiable(cond)
        if reason:
            self.error(
                path,
                f"{rule + ' ' if rule else ''}can never fire: {reason} (unreachable rule)",
                "unreachable-rule",
            )

    def _history_field(self, name: str, p: Path) -> None:
        """history.quarters_in_tier, history.quarters_since.<event type>,
        history.consecutive.<band set or decision>."""
        if name == "history.quarters_in_tier":
            return
        if name.startswith("history.quarters_since."):
            kind = name.split(".", 2)[2]
            if kind not in EVENT_TYPES:
                self.error(
                    p + ("field",),
                    f"unknown event type '{kind}' in '{name}'" + suggest(kind, EVENT_TYPES),
                    "unknown-reference",
                )
            return
        if name.startswith("history.consecutive."):
            key = name.split(".", 2)[2]
            known = list(self.band_ids) + list(self.decision_values)
            if key not in known:
                self.error(
                    p + ("field",),
                    f"unknown band set or decision '{key}' in '{name}'" + suggest(key, known),
                    "unknown-reference",
                )
            return
        options = [
            "history.quarters_in_tier",
            "history.quarters_since.<event type>",
            "history.consecutive.<band set or decision>",
        ]
        self.error(
            p + ("field",),
            f"unknown history field '{name}'"
            + (suggest(name, ["history.quarters_in_tier"]) or f" (use {', '.join(options)})"),
            "unknown-reference",
        )

    def _leaf(self, leaf: dict[str, Any], p: Path, transitions: bool) -> None:
        name = leaf["field"]
        op, arg = C.leaf_op(leaf)
        if transitions and name.startswith("history."):
            self._history_field(name, p)
            return
        if transitions and name == "evaluated_direction":
            self._values_in(op, arg, ["up", "down", "same"], "direction", p)
            return
        if transitions and name in TRANSITION_FIELDS:
            self._values_in(op, arg, self.tiers, "tier", p)
            return
        if name == "tier" or (transitions and name in ("evaluated_tier", "previous_tier")):
            self._values_in(op, arg, self.tiers, "tier", p)
            return
        known = list(self.values)
        if name not in self.values:
            extra = ["tier"] + (sorted(TRANSITION_FIELDS) if transitions else [])
            self.error(
                p + ("field",),
                f"unknown field '{name}'" + suggest(name, known + extra),
                "unknown-reference",
            )
            return
        kind = self.value_types[name]
        if kind == "band":
            self._values_in(op, arg, self.band_ids[name] + self.band_rows[name], "band", p)
        elif kind == "decision":
            self._values_in(op, arg, self.decision_values[name], "value", p)
        if op in C.NUMERIC_OPS and kind not in NUMERIC_TYPES | {"number"}:
            self.error(p, f"'{op}' compares numbers, but '{name}' is a {kind} value", "type")
        if op in ("eq", "ne") and kind == "boolean" and not isinstance(arg, bool):
            self.error(p + (op,), f"'{name}' is boolean: compare it with true or false", "type")
        if (
            op in ("eq", "ne")
            and kind in NUMERIC_TYPES | {"number"}
            and (isinstance(arg, (str, bool)))
        ):
            self.error(p + (op,), f"'{name}' is numeric: {arg!r} is not a number", "type")
        if kind == "enum":
            allowed = next(i.get("values", []) for i in self.d["inputs"] if i["id"] == name)
            self._values_in(op, arg, allowed, "value", p)

    def _values_in(self, op: str, arg: Any, allowed: list[Any], what: str, p: Path) -> None:
        if op not in ("eq", "ne", "in", "not_in"):
            if op != "exists":
                self.error(p, f"'{op}' cannot compare a {what}; use eq, ne, in or not_in", "type")
            return
        args = arg if isinstance(arg, list) else [arg]
        for j, a in enumerate(args):
            if a not in allowed:
                self.error(
                    p + ((op, j) if isinstance(arg, list) else (op,)),
                    f"unknown {what} '{a}'" + suggest(str(a), map(str, allowed)),
                    "unknown-tier" if what == "tier" else "unknown-reference",
                )

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

    # -- dependencies --------------------------------------------------------------------
    def check_cycles(self) -> None:
        deps: dict[str, set[str]] = defaultdict(set)
        where: dict[str, Path] = {}

        def fields(cond: dict[str, Any]) -> set[str]:
            out = set()
            for _, leaf in C.iter_leaves(cond):
                if "field" in leaf:
                    out.add(leaf["field"])
                elif "flag" in leaf:
                    out.add(f"flag:{leaf['flag']}")
            return out

        for i, x in enumerate(self.d.get("derived", [])):
            op = next(o for o in DERIVED_OPS if o in x)
            deps[x["id"]] |= set(x[op] if isinstance(x[op], list) else [x[op]])
            where[x["id"]] = ("derived", i)
        for i, s in enumerate(self.d.get("scores", [])):
            for c in s["components"]:
                deps[s["id"]] |= {c["input"]} if "input" in c else fields(c["when"])
            where[s["id"]] = ("scores", i)
        for i, b in enumerate(self.d["bands"]):
            deps[b["id"]].add(b["over"])
            where[b["id"]] = ("bands", i)
        for i, dec in enumerate(self.d.get("decisions", [])):
            for r in dec["rules"]:
                deps[dec["id"]] |= fields(r["when"])
            where[dec["id"]] = ("decisions", i)
        g = self.d["grid"]
        deps["tier"] |= {g["rows"]} | ({g["columns"]} if g.get("columns") else set())
        where["tier"] = ("grid",)
        for i, f in enumerate(self.d.get("flags", [])):
            deps[f"flag:{f['id']}"] |= fields(f["when"])
            where[f"flag:{f['id']}"] = ("flags", i)
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()

        def visit(node: str, stack: list[str]) -> None:
            state[node] = 1
            for dep in sorted(deps.get(node, ())):
                if state.get(dep) == 1:
                    cycle = stack[stack.index(dep) :] + [dep] if dep in stack else [node, dep]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.error(
                            where.get(dep, ()),
                            "depends on itself: "
                            + " -> ".join(c.replace("flag:", "flag ") for c in cycle),
                            "cycle",
                        )
                elif state.get(dep) is None:
                    visit(dep, stack + [dep])
            state[node] = 2

        for node in sorted(deps):
            if state.get(node) is None:
                visit(node, [node])

    def check_tier_inputs_known(self) -> None:
        """Every account needs exactly one tier, so the grid may not hang on blank inputs."""
        inputs = {i["id"]: (j, i) for j, i in enumerate(self.d["inputs"])}
        derived = {x["id"]: x for x in self.d.get("derived", [])}
        scores = {s["id"]: s for s in self.d.get("scores", [])}
        bands = {b["id"]: b for b in self.d["bands"]}
        seen: set[str] = set()

        def walk(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            if name in inputs:
                j, item = inputs[name]
                if not item.get("required") and "default" not in item:
                    self.error(
                        ("inputs", j),
                        f"input '{name}' decides the tier (through the grid) "
                        "but is optional with no default: make it required or give a "
                        "default, or blank rows would get no tier",
                        "tier-input",
                    )
            elif name in derived:
                op = next(o for o in DERIVED_OPS if o in derived[name])
                args = derived[name][op]
                for a in args if isinstance(args, list) else [args]:
                    walk(a)
            elif name in scores:
                for c in scores[name]["components"]:
                    if "input" in c:  # `when` components are never unknown: not true scores 0
                        walk(c["input"])
            elif name in bands:
                walk(bands[name]["over"])

        g = self.d["grid"]
        for name in (g["rows"], g.get("columns")):
            if name:
                walk(name)

    def run(self) -> list[Problem]:
        self.collect_names()
        self.check_derived()
        self.check_scores()
        self.check_bands()
        self.check_grid()
        self.check_rules()
        self.check_flags_and_declarations()
        self.check_capacity_gates_triggers()
        self.check_cycles()
        self.check_alignment()
        if not self.problems:
            self.check_tier_inputs_known()
        return self.problems


def semantic_problems(doc: Document) -> list[Problem]:
    return _Checker(doc).run()
