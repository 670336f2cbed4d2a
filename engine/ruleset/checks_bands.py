"""Semantic checks of band sets and the tier grid: gaps, overlaps, open axes, cells."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from ..errors import suggest
from .checks_base import (
    CheckerBase,
    Path,
)


class BandChecks(CheckerBase):
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
