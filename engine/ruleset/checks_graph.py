"""Semantic checks of cycles between values and decisions; tiers reachable from known inputs."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..network import conditions as C
from .checks_base import (
    DERIVED_OPS,
    CheckerBase,
    Path,
)


class GraphChecks(CheckerBase):
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
