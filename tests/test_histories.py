"""The transition history kept as columns (assess/histories.py) against a reference that
keeps it per account in dicts, as the language defines it (docs/language.md): quarters
since each event type, quarters in the held tier, the previous tier, and each band's and
decision's streak, counted since the last move."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from tierbook.assess.histories import Histories, one_history
from tierbook.portfolio.event_types import ACCOUNT_TYPES

TIERS = ["T1", "T2", "T3"]
KINDS = sorted(ACCOUNT_TYPES)
KEYS = ["sv_band", "health_band", "motion"]
NAMES = [
    "history.quarters_in_tier",
    *(f"history.quarters_since.{k}" for k in KINDS),
    "history.quarters_since.capacity_change",  # (not an account's: always the quarter)
    *(f"history.consecutive.{k}" for k in KEYS),
    "history.consecutive.never_decided",
]


@dataclass
class Reference:
    """One account's history as dicts."""

    quarters_in_tier: int = 0
    previous_tier: str = ""
    quarters_since: dict[str, int] = field(default_factory=dict)
    consecutive: dict[str, tuple[Any, int]] = field(default_factory=dict)

    def count_quarter(self, kinds: set[str], quarter: int) -> None:
        for kind in ACCOUNT_TYPES:
            if kind in kinds:
                self.quarters_since[kind] = 0
            else:
                self.quarters_since[kind] = self.quarters_since.get(kind, quarter - 1) + 1

    def count_streaks(self, current: dict[str, Any]) -> None:
        for key, value in current.items():
            prev, run = self.consecutive.get(key, (None, 0))
            self.consecutive[key] = (value, run + 1 if prev == value else 1)

    def lookup(self, name: str, quarter: int) -> int:
        if name == "history.quarters_in_tier":
            return self.quarters_in_tier
        if name.startswith("history.quarters_since."):
            return self.quarters_since.get(name.split(".", 2)[2], quarter)
        return self.consecutive.get(name.split(".", 2)[2], (None, 0))[1]


values = st.sampled_from([None, "LOW", "HIGH", 1, 2.0, True])
current_of_path = st.dictionaries(st.sampled_from(KEYS), values, max_size=3)
quarter = st.fixed_dictionaries(
    {
        "paths": st.lists(current_of_path, min_size=1, max_size=4),
        "accounts": st.lists(
            st.tuples(
                st.booleans(),  # evaluated this quarter
                st.integers(0, 3),  # its path (modulo the paths)
                st.sets(st.sampled_from(KINDS), max_size=2),  # kinds it had
                st.sampled_from(["decide", "decide", "join", "move"]),
                st.sampled_from(TIERS),  # its tier before the quarter, or the one it joins
            ),
            min_size=6,
            max_size=6,
        ),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    start=st.lists(st.integers(0, 3), min_size=6, max_size=6),
    quarters=st.lists(quarter, max_size=5),
)
def test_columns_count_as_the_reference(start: list[int], quarters: list[dict[str, Any]]) -> None:
    n = len(start)
    ref = [Reference() for _ in range(n)]
    h = Histories(TIERS)
    h.grow(n)
    first = [{"sv_band": "LOW"}, {"sv_band": "HIGH"}, {}, {"motion": 1}]
    all_rows = np.arange(n, dtype=np.int64)
    h.dwell[all_rows] = 2
    h.previous[all_rows] = h.tiers(TIERS[p % 3] for p in start)
    h.count_streaks(all_rows, np.asarray(start, dtype=np.int64), first)
    for r, p in zip(ref, start):
        r.quarters_in_tier, r.previous_tier = 2, TIERS[p % 3]
        r.count_streaks(first[p])
    away: set[int] = set()  # churned: back only by a reactivation, which starts over
    for count, q in enumerate(quarters, start=1):
        paths = q["paths"]
        on = [k for k, a in enumerate(q["accounts"]) if a[0]]
        q["accounts"] = [
            (*a[:3], "join", a[4]) if k in away and a[0] else a for k, a in enumerate(q["accounts"])
        ]
        away = set(range(n)) - set(on)
        rows = np.asarray(on, dtype=np.int64)
        path_of = np.asarray([q["accounts"][k][1] % len(paths) for k in on], dtype=np.int64)
        h.count_quarter(
            {kind: rows[[kind in q["accounts"][k][2] for k in on]] for kind in KINDS}, count
        )
        h.count_streaks(rows, path_of, paths)
        for k, p in zip(on, path_of):
            ref[k].count_quarter(q["accounts"][k][2], count)
            ref[k].count_streaks(paths[p])
        joining = [k for k in on if q["accounts"][k][3] == "join"]
        h.start_over(
            np.asarray(joining, dtype=np.int64),
            h.tiers(q["accounts"][k][4] for k in joining),
            count,
        )
        for k in joining:
            ref[k].quarters_in_tier, ref[k].previous_tier = 0, q["accounts"][k][4]
            ref[k].quarters_since = dict.fromkeys(ACCOUNT_TYPES, 0)
        deciding = [k for k in on if q["accounts"][k][3] != "join"]
        decided = np.asarray(deciding, dtype=np.int64)
        got = h.fields(decided, NAMES, count)
        for at, k in enumerate(deciding):
            row = got.row(at, named=True)
            assert row["previous_tier"] == (ref[k].previous_tier or None)
            assert row["\0dwell"] == ref[k].quarters_in_tier
            assert {name: row[name] for name in NAMES} == {
                name: ref[k].lookup(name, count) for name in NAMES
            }
        moved = np.asarray([q["accounts"][k][3] == "move" for k in deciding], dtype=bool)
        h.dwell[decided[~moved]] += 1
        h.moved(decided[moved])
        h.previous[decided] = h.tiers(q["accounts"][k][4] for k in deciding)
        for k in deciding:
            r = ref[k]
            if q["accounts"][k][3] == "move":
                r.quarters_in_tier = 0
                r.consecutive = {key: (v, 0) for key, (v, _) in r.consecutive.items()}
            else:
                r.quarters_in_tier += 1
            r.previous_tier = q["accounts"][k][4]


def test_an_account_new_to_the_part_has_no_history_yet() -> None:
    h = Histories(TIERS, 1)
    h.count_streaks(np.asarray([0]), np.asarray([0]), [{"sv_band": "LOW"}])
    h.grow(3)
    got = h.fields(np.asarray([1, 2]), NAMES, 4).to_dicts()
    assert (
        got
        == [
            {"previous_tier": None, "\0dwell": 0, "history.quarters_in_tier": 0}
            | {f"history.quarters_since.{k}": 4 for k in KINDS}
            | {"history.quarters_since.capacity_change": 4}
            | {f"history.consecutive.{k}": 0 for k in KEYS}
            | {"history.consecutive.never_decided": 0}
        ]
        * 2
    )


def test_a_rule_case_history_reads_back_as_given() -> None:
    h = one_history(
        TIERS,
        quarters_in_tier=3,
        previous_tier="Former",  # (a case may name a tier the ruleset no longer has)
        quarters_since={"expansion": 2, "capacity_change": 1},
        consecutive={"sv_band": 4},
        replay_quarters=6,
    )
    got = h.fields(np.asarray([0]), NAMES, 6).row(0, named=True)
    assert got["previous_tier"] == "Former" and got["\0dwell"] == 3
    assert got["history.quarters_in_tier"] == 3
    assert got["history.quarters_since.expansion"] == 2
    assert got["history.quarters_since.capacity_change"] == 1
    assert got["history.quarters_since.renewal"] == 6
    assert got["history.consecutive.sv_band"] == 4 and got["history.consecutive.motion"] == 0
