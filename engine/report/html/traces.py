"""Which accounts' decision traces report.html embeds, and their text.

A page with every account's trace would be megabytes per thousand accounts (a trace is
about 2.5 KB of text), so the page embeds at most ``TRACE_CAP``: the ``TOP_BY_ARR``
largest accounts by ARR, then the accounts that need a person's look -- a comment (a
contradiction), a review hint, a move against the CRM's current tier, an override --
largest first.  Every other account's trace is one ``tierbook explain`` away, and the page
says so with the counts.  The text is `tierbook explain`'s own (``render_text`` of
``Explainer.explain``), read from the run this command just stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from ..arr_order import descending

if TYPE_CHECKING:
    from ...assess.result import SegmentResult
    from ...ruleset.model import Ruleset

TOP_BY_ARR = 100
TRACE_CAP = 500


def order_by_arr(arrs: Sequence[Any] | pl.Series) -> pl.Series:
    """Account indexes, largest ARR first (ties: file order; a blank ARR, or one that is
    not a number, last)."""
    values = arrs if isinstance(arrs, pl.Series) else pl.Series(list(arrs), strict=False)
    x = pl.col("arr")
    if not values.dtype.is_numeric():  # (no ARR column: nulls; text is not a number)
        x = pl.lit(None, dtype=pl.Float64)
    x = x.cast(pl.Float64)
    key = pl.when(x.is_null() | x.is_nan()).then(math.inf).otherwise(descending(x))
    frame = values.rename("arr").to_frame().with_row_index("i")
    return frame.select(key.alias("k"), "i").sort("k", "i")["i"]


def by_arr(arrs: Sequence[Any] | pl.Series) -> list[int]:
    """``order_by_arr`` as a list."""
    return [int(i) for i in order_by_arr(arrs).to_list()]


def chosen(order: Sequence[int], attention: Callable[[int], bool]) -> list[int]:
    """The indexes whose traces the page embeds, in ``order`` (largest ARR first)."""
    out = list(order[:TOP_BY_ARR])
    for i in order[TOP_BY_ARR:]:
        if len(out) >= TRACE_CAP:
            break
        if attention(i):
            out.append(i)
    return out


def chosen_of(order: pl.Series, attention: pl.Series) -> pl.Series:
    """``chosen`` over columns: ``attention`` holds, per account, whether it needs a look."""
    top = order.head(TOP_BY_ARR)
    rest = order.slice(TOP_BY_ARR)
    looked = rest.filter(attention.gather(rest)).head(max(0, TRACE_CAP - len(top)))
    return pl.concat([top, looked])


def explain_texts(
    store_path: str,
    run_id: int,
    account_ids: Sequence[str],
    *,
    same_bytes: bool = True,
    ruleset: Ruleset | None = None,
) -> dict[str, str]:
    """`tierbook explain`'s text of each account of a run (which may still be the one being
    written by this process), the run's network compiled once.  ``same_bytes``: the run is
    named "run this" rather than by its number in the store, so the same input gives the
    same page whatever runs the store held before; ``ruleset``: the run's own, where the
    caller holds it as read from the stored text (``Explainer``)."""
    from ...trace.explain import Explainer, render_text
    from ...trace.store import TraceStore

    store = TraceStore(store_path, create=False)
    try:
        explainer = Explainer(store, run_id, unfinished=True, ruleset=ruleset)
        out = {}
        for a, x in explainer.explain_many(account_ids).items():
            if same_bytes:
                x["run"] = x["run"] | {"run_id": "this"}
            out[a] = render_text(x)
        return out
    finally:
        store.close()


def as_stored(result: SegmentResult) -> Ruleset | None:
    """The result's ruleset where it is what the run's stored text reads as (no --map or
    --csms changed how the run read it), for ``explain_texts``; else None."""
    return result.ruleset if result.inputs is None else None


COUNTS = (
    "The table holds all {total} accounts, {page} to a page. Decision traces are embedded for "
    "{traced} of them: the {top} largest by ARR, then accounts with a comment, a review hint, "
    "a move against the current book or an override, largest first, at most {cap} in all. "
    "Any other account's trace: `tierbook explain ACCOUNT_ID` on the trace store this run "
    "wrote (the latest segment run; `--run N` names another)."
)
