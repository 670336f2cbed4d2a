"""A replay part's quarter in the ARR bridge (``assess.bridge``), as columns: each
account's ARR in cents read off the part's inputs frame (``replay_inputs``), and the
quarter's movements of the part's accounts, which ``assess.bridge.bridged`` sums."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import polars as pl

from ..assess.bridge import Bridged, Movements, bridged, cents
from ..ruleset.model import Ruleset
from .replay_apply import AccountState


def arr_cents(frame: pl.DataFrame, arr_field: str) -> list[int]:
    """Each row's ARR in cents, as ``cents`` gives it (no ARR: 0)."""
    if arr_field not in frame.columns:
        return [0] * frame.height
    arr = frame[arr_field].cast(pl.Float64).fill_null(0.0).to_numpy()
    if not np.isfinite(arr).all():  # (no cents: as ``cents`` says it)
        return [cents(v) for v in frame[arr_field].to_list()]
    # numpy's rint rounds half to even, as round does, on the same product
    return [int(c) for c in np.rint(arr * 100).astype(np.int64).tolist()]


def arr_floats(frame: pl.DataFrame, arr_field: str) -> list[float]:
    """Each row's ARR as ``float(arr or 0.0)`` gives it (no ARR, or -0.0: 0.0)."""
    if arr_field not in frame.columns:
        return [0.0] * frame.height
    arr = frame[arr_field].cast(pl.Float64).fill_null(0.0)
    return frame.select(pl.when(arr == 0).then(0.0).otherwise(arr)).to_series().to_list()


def part_bridge(
    ruleset: Ruleset,
    states: Mapping[str, AccountState],
    start: tuple[dict[str, str], dict[str, int]],
    joined: dict[str, str],
    rejoined: dict[str, str],
    cents_of: Callable[[list[str]], list[int]],
) -> Bridged:
    """The quarter's ARR bridge over a part's accounts: those served at the start
    (``start``: their tier and cents then), in the tier they held, and those that joined
    or came back, in the tier they entered; ``cents_of``: accounts' ARR in cents now."""
    start_tier, start_arr = start
    came = [*joined, *rejoined]
    ids = [*start_tier, *came]
    moves = Movements(
        [*start_tier.values()] + [""] * len(came),
        [start_arr[i] for i in start_tier] + [0] * len(came),
        [states[i].held for i in start_tier] + [*joined.values(), *rejoined.values()],
        cents_of(ids),
        [""] * len(start_tier) + ["new"] * len(joined) + ["reactivated"] * len(rejoined),
        [bool(states[i].churned_in) for i in ids],
    )
    active = [i for i, st in states.items() if not st.churned_in]
    return bridged(ruleset, moves, [states[i].held for i in active], cents_of(active))
