"""The accounts whose CRM tier must change, one row each, for changes.csv.

A row for every account whose new tier differs from its current one (an upgrade or a
downgrade), and for every account whose CRM tier is blank or unmapped (``set``: the CRM field
gets a label it does not hold yet).  Accounts whose tier stays are left out: an import
changes only what it lists.  The reason is what placed the account: an override when one
decides it (``overrides``: account id -> override id, from whoever applies overrides), else
the deciding grid cell, with the flags the account carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ..evaluate.decisions import Decision
from ..portfolio.frame import python_column
from ..ruleset.model import Ruleset
from .current import BookMoves, export_labels

COLUMNS = (
    "account_id",
    "account_name",
    "csm",
    "current_tier",
    "new_tier",
    "tierbook_tier",
    "change",
    "reason",
    "arr",
)


@dataclass(frozen=True)
class Change:
    account_id: str
    account_name: str
    csm: str
    current_tier: str  # the CRM label as read (blank when unknown)
    new_tier: str  # the CRM label to import
    tierbook_tier: str
    change: str  # upgrade | downgrade | set
    reason: str
    arr: float


def text_cells(column: pl.Series, whole: bool) -> pl.Series:
    """Each value as ``str`` gives it, a blank as the empty text."""
    if column.dtype == pl.String:
        return column.fill_null("")
    values = python_column(column, whole)
    return pl.Series(["" if v is None else str(v) for v in values], dtype=pl.String)


def change_frame(
    rs: Ruleset,
    moves: BookMoves,
    *,
    ids: pl.Series,
    columns: Mapping[str, pl.Series],
    new: pl.Series,
    path_of: pl.Series,
    firsts: Sequence[Decision],
    arrs: pl.Series,
    overrides: Mapping[str, str] | None = None,
    whole: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """One row per account that changes (``COLUMNS``, ``arr`` a float): ``columns`` holds
    each account's ``name``, ``csm`` and ``current_tier`` as read, ``new`` its new tier,
    ``path_of`` its firing path (``firsts``: each path's decision, for the deciding cell
    and the flags); ``whole``: which of ``columns`` are numbers written as integers."""
    order = {t: i for i, t in enumerate(rs.tier_ids)}
    export = export_labels(rs)
    current = moves.current
    changed = (
        pl.DataFrame({"c": current, "t": new})
        .with_row_index("i")
        .filter(pl.col("c").is_null() | (pl.col("c") != pl.col("t")))["i"]
    )
    tier_ids = list(order)
    now = current.gather(changed).replace_strict(tier_ids, list(range(len(tier_ids))), default=None)
    to = new.gather(changed)
    kind = (
        pl.when(pl.col("now").is_null())
        .then(pl.lit("set"))
        .when(pl.col("to").replace_strict(order, return_dtype=pl.Int64) < pl.col("now"))
        .then(pl.lit("upgrade"))
        .otherwise(pl.lit("downgrade"))
    )
    cells = pl.Series([f"cell {d.cell}" for d in firsts], dtype=pl.String)
    flags = pl.Series([f"; flags: {', '.join(d.flags)}" if d.flags else "" for d in firsts])
    account = ids.gather(changed)
    paths = path_of.gather(changed)
    by = pl.col("override")
    picked = (
        account.replace_strict(
            list(overrides), list(overrides.values()), default=None, return_dtype=pl.String
        )
        if overrides
        else pl.Series([None] * len(account), dtype=pl.String)
    )
    frame = pl.DataFrame(
        {
            "account_id": account,
            "account_name": text_cells(columns["name"].gather(changed), "name" in whole),
            "csm": text_cells(columns["csm"].gather(changed), "csm" in whole),
            "current_tier": text_cells(columns["current_tier"].gather(changed), False),
            "to": to,
            "now": now,
            "cell": cells.gather(paths),
            "flags": flags.gather(paths),
            "override": picked,
            "arr": arrs.gather(changed).cast(pl.Float64),
        },
        height=len(changed),
    )
    reason = (
        pl.when(by.is_not_null() & (by != ""))
        .then(pl.lit("override ") + by)
        .otherwise(pl.col("cell"))
    )
    return frame.select(
        "account_id",
        "account_name",
        "csm",
        "current_tier",
        pl.col("to").replace_strict(export, return_dtype=pl.String).alias("new_tier"),
        pl.col("to").alias("tierbook_tier"),
        kind.alias("change"),
        (reason + pl.col("flags")).alias("reason"),
        "arr",
    )
