"""What every family of semantic checks shares: the ruleset's names and their kinds, the
located problems, references to values, and the checks of a condition's leaves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import Problem, suggest
from ..network import conditions as C
from ..portfolio.cells import NUMERIC_TYPES
from ..portfolio.event_types import TYPES as EVENT_TYPES
from ..portfolio.headers import normalise
from .yamlsafe import Document

Path = tuple[str | int, ...]
DERIVED_OPS = ("ratio", "difference", "sum", "days_since", "days_until")
TRANSITION_FIELDS = {"evaluated_tier", "evaluated_direction", "previous_tier"}
WEIGHT_TOLERANCE = 1e-9


class CheckerBase:
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
        # (a default its type or range refuses: checks_inputs)
        if "default" in item and item.get("required"):
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
