"""Accounts -> classes: which comparisons of the rule network each account passes, and
which rule alternatives' conditions on the account those make hold.

Every comparison in the rules is with a constant.  Each is a column of the frame (1 true,
0 false, 2 unknown: ``leaf_codes``); each rule alternative's condition on the account is a
column over those (``held_columns``).  An executor sees an account only through those
conditions, so accounts that agree on them fire exactly the same rules in the same order:
they are one *class*, and the executor runs once per class (``classes``).  Also the cache
of firing paths already run, shared by evaluations whose compiled rules are the same, and
the one loop that runs the classes on an executor through it (``paths_of``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from .model import Network
from .truths import truth

if TYPE_CHECKING:
    from .executor import Executor

FiringPath = tuple[tuple[int, int], ...]  # the rules fired in order: (rule index, disjunct)


def leaf_codes(network: Network, frame: pl.DataFrame) -> pl.DataFrame:
    """Per distinct comparison of the network (column ``l<index>``): 1 where it is true of
    the account's values, 0 where false, 2 where unknown."""
    codes = []
    for leaf in network.leaves:
        held = truth(frame, leaf.field, leaf.op, leaf.arg)
        code = pl.when(held.is_null()).then(2).when(held).then(1).otherwise(0)
        codes.append(code.cast(pl.Int8).alias(f"l{leaf.index}"))
    return frame.select(codes) if codes else pl.DataFrame(height=frame.height)


def _held_expr(formula: Any) -> pl.Expr:
    """An account formula over condition codes, two-valued as both executors read it (an
    atom holds when its comparison's state is one of the atom's states)."""
    kind = formula[0]
    if kind == "atom":
        codes = [code for code, state in _CODES.items() if state in formula[2]]
        return pl.col(f"l{formula[1]}").is_in(codes)
    if kind == "true":
        return pl.lit(True)
    parts = [_held_expr(f) for f in formula[1]]
    if not parts:
        return pl.lit(kind == "and")
    return pl.all_horizontal(parts) if kind == "and" else pl.any_horizontal(parts)


def held_columns(network: Network, codes: pl.DataFrame) -> pl.DataFrame:
    """One Boolean column per rule alternative whose condition on the account is not
    always true: whether it holds for the account."""
    exprs = [
        _held_expr(d.account).alias(f"h{n}")
        for n, d in enumerate(
            d for rule in network.rules for d in rule.disjuncts if d.account[0] != "true"
        )
    ]
    return codes.select(exprs) if exprs else pl.DataFrame(height=codes.height)


def _packed(held: pl.DataFrame) -> pl.DataFrame:
    """The held columns packed 64 to an unsigned integer (grouping by a few integers is
    much faster than by many Boolean columns, and tells the same rows apart)."""
    names = held.columns
    return held.select(
        pl.sum_horizontal(
            pl.col(name).cast(pl.UInt64) * pl.lit(1 << bit, pl.UInt64)
            for bit, name in enumerate(names[start : start + 64])
        ).alias(f"k{start // 64}")
        for start in range(0, len(names), 64)
    )


@dataclass
class Classes:
    """The accounts' classes, in the order of each class's first account."""

    first: list[int]  # each class's first account
    bits: list[bytes]  # its condition codes (what an executor runs on)
    held: list[bytes]  # the conditions they hold (what tells classes apart)
    of_account: pl.Series  # each account's class


def classes(network: Network, frame: pl.DataFrame, memo: bool = True) -> Classes:
    """Group the accounts by the conditions they hold (``memo=False``: every account its
    own class)."""
    return classes_of_codes(network, leaf_codes(network, frame), memo)


def classes_of_codes(network: Network, codes: pl.DataFrame, memo: bool = True) -> Classes:
    """``classes`` of accounts whose condition codes (``leaf_codes``' columns, one per leaf
    of ``network`` in leaf order) are given."""
    held = held_columns(network, codes)
    n = codes.height
    if not memo:
        first = list(range(n))
        of_account = pl.Series("class", range(n), dtype=pl.UInt32)
    elif not held.width:
        first = [0] if n else []
        of_account = pl.Series("class", [0] * n, dtype=pl.UInt32)
    else:
        keys = _packed(held)
        keyed = keys.with_row_index("at")
        groups = (
            keyed.group_by(keys.columns, maintain_order=True)
            .agg(pl.col("at").first())
            .with_row_index("class")
        )
        first = groups["at"].to_list()
        of_account = keyed.join(
            groups.drop("at"), on=keys.columns, how="left", maintain_order="left"
        )["class"]
    bits = [bytes(row) for row in codes[first].rows()] if codes.width else [b""] * len(first)
    held_rows = held[first].rows() if held.width else [()] * len(first)
    return Classes(first, bits, [bytes(row) for row in held_rows], of_account)


_CODES = {1: "T", 0: "F", 2: "U"}  # condition code -> state


# Paths already run, per executor and network structure, by the conditions they held.  The
# executor sees only the network's rules (formulas over condition bits, fact patterns,
# outputs, priorities), never the constants the bits were computed with, so a network whose
# rules are the same gives the same path for the same conditions held: calibration's
# recounts (moved band boundaries) and replay's quarters change the constants only.
# Bounded; --no-memo never uses it.
_PATH_CACHE: dict[tuple[str, str], dict[bytes, FiringPath]] = {}
_PATH_CACHE_NETWORKS = 4
_PATH_CACHE_PATHS = 200_000


def network_signature(network: Network) -> str:
    """The network's rules without the constants behind the condition bits."""
    return repr(
        (
            len(network.leaves),
            [(r.index, r.id, r.kind, r.disjuncts, r.output) for r in network.rules],
        )
    )


def path_cache(engine: str, network: Network) -> dict[bytes, FiringPath]:
    """Conditions held (``conditions_held``) -> firing path already run by ``engine`` on a
    network like this one."""
    key = (engine, network_signature(network))
    cache = _PATH_CACHE.pop(key, None)
    if cache is None or len(cache) > _PATH_CACHE_PATHS:
        cache = {}
    _PATH_CACHE[key] = cache  # most recently used last
    while len(_PATH_CACHE) > _PATH_CACHE_NETWORKS:
        del _PATH_CACHE[next(iter(_PATH_CACHE))]
    return cache


def paths_of(
    found: Classes, make: Callable[[], Executor], cache: dict[bytes, FiringPath] | None
) -> Generator[FiringPath, None, None]:
    """Each class's firing path, in class order: ``cache``'s (``path_cache``) for the
    conditions the class holds, else run on the executor ``make`` gives, made when first
    needed, once, and closed when the paths end (``cache`` None, --no-memo: every class
    runs).  Close the iterator (``contextlib.closing``) when it may not be read to the end."""
    executor: Executor | None = None
    try:
        for bits, held in zip(found.bits, found.held):
            path = cache.get(held) if cache is not None else None
            if path is None:
                if executor is None:
                    executor = make()
                path = tuple(executor.run(bits))
                if cache is not None:
                    cache[held] = path
            yield path
    finally:
        if executor is not None:
            executor.close()
