"""Semantic checks of the inputs themselves: a default that its own type or range refuses,
an ARR input aliased to the CRM's company revenue, a role given to two inputs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..portfolio.cells import NUMERIC_TYPES
from ..portfolio.headers import COMPANY_REVENUE, normalise
from .checks_base import CheckerBase, Path
from .yamlsafe import json_path


def _bounds(low: float | None, high: float | None) -> str:
    return f"{low if low is not None else '-inf'}..{high if high is not None else 'inf'}"


def default_problem(item: dict[str, Any]) -> str | None:
    """What is wrong with ``item``'s default for its own type and min/max, if anything: the
    value a blank cell (or an absent column) takes must be one a cell could hold."""
    kind, default = item["type"], item["default"]
    if kind in NUMERIC_TYPES:
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            return f"default {default!r} is not a valid {kind}"
        if kind == "integer" and not float(default).is_integer():
            return f"default {default!r} is not a whole number (the input is an integer)"
        if kind == "ratio" and not 0 <= default <= 1:
            return f"default {default!r} is outside 0..1 (a ratio is between 0 and 1)"
        low, high = item.get("min"), item.get("max")
        if (low is not None and default < low) or (high is not None and default > high):
            return f"default {default!r} is outside the input's range {_bounds(low, high)}"
        return None
    if kind == "boolean" and not isinstance(default, bool):
        return f"default {default!r} is not a valid boolean (use true or false)"
    if kind == "string" and not isinstance(default, str):
        return f"default {default!r} is not a valid string (quote it)"
    if kind == "enum" and default not in item.get("values", []):
        values = ", ".join(map(str, item.get("values", [])))
        return f"default {default!r} is not one of the input's values ({values})"
    if kind == "date":
        try:
            if not isinstance(default, str) or len(default) != 10:
                raise ValueError
            dt.date.fromisoformat(default)
        except ValueError:
            return f"default {default!r} is not a valid date (YYYY-MM-DD)"
    return None


class InputChecks(CheckerBase):
    def check_inputs(self) -> None:
        inputs: list[dict[str, Any]] = self.d["inputs"]
        holders: dict[str, Path] = {}  # role -> the first input given it
        for i, item in enumerate(inputs):
            path: Path = ("inputs", i)
            if "default" in item:
                message = default_problem(item)
                if message:
                    self.error(path + ("default",), message, "bad-default")
            role = item.get("role")
            if role:
                # every role names one input (Ruleset.role reads the first one given it)
                if role in holders:
                    first = holders[role]
                    line = self.doc.where(first)[0]
                    owner = inputs[int(first[1])]["id"]
                    self.error(
                        path + ("role",),
                        f"role '{role}' is already given to input '{owner}' "
                        f"({json_path(first)}, line {line}): a role names one input",
                        "duplicate-role",
                    )
                else:
                    holders[role] = path + ("role",)
        arr = next((i for i, x in enumerate(inputs) if x.get("role") == "arr"), None)
        if arr is None:
            arr = next((i for i, x in enumerate(inputs) if x["id"] == "arr"), None)
        if arr is not None:
            self._company_revenue(inputs[arr], ("inputs", arr))

    def _company_revenue(self, item: dict[str, Any], path: Path) -> None:
        """The ARR input never reads Salesforce's AnnualRevenue or HubSpot's annualrevenue
        (matched as headers are: ignoring case and separators)."""
        names: list[tuple[str, Path]] = [(item["id"], path + ("id",))]
        names += [(a, path + ("aliases", j)) for j, a in enumerate(item.get("aliases", []))]
        for name, where in names:
            if normalise(name) in COMPANY_REVENUE:
                self.error(
                    where,
                    f"'{name}' is the CRM's company-revenue field (Salesforce AnnualRevenue, "
                    "HubSpot annualrevenue): the customer company's own revenue, not the ARR "
                    "it pays; read ARR from an ARR field (ARR__c, a roll-up of subscriptions)",
                    "company-revenue-alias",
                )
