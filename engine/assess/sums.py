"""The accounts and ARR of each tier, as the report files and the gates state them.

ARR is summed account by account in the book's order (a tier's running total, from 0.0),
which is what makes a report's dollar figures reproducible to the last cent: numpy's
``cumsum`` adds strictly left to right, where its ``sum`` (and polars') adds pairwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def arr_per_tier(tiers: Sequence[str], arr: pl.Series | None) -> dict[str, tuple[int, float]]:
    """Each tier's accounts and ARR (a blank ARR counts as 0), tiers in the order the book
    first meets them."""
    of = pl.Series("tier", list(tiers), dtype=pl.String)
    if not len(of):
        return {}
    names = of.unique(maintain_order=True).to_list()
    index = of.replace_strict(names, range(len(names)), return_dtype=pl.Int32).to_numpy()
    values = (
        np.zeros(len(of))
        if arr is None or arr.dtype == pl.Null
        else arr.cast(pl.Float64).fill_null(0.0).to_numpy()
    )
    out: dict[str, tuple[int, float]] = {}
    for code, name in enumerate(names):
        mine = values[index == code]
        out[name] = (len(mine), float(np.cumsum(np.append(0.0, mine))[-1]))
    return out
