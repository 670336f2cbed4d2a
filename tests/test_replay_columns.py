"""The replay's per-quarter columns against the per-account code they stand for: the inputs
frame kept across quarters (only the accounts events named read again) is the frame made
from every account's dict; the bridge's sums over a frame of movements are bridge_sums'
over one Movement per account; the signal kinds per account are the signals held."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from polars.testing import assert_frame_equal
from tierbook.assess.bridge import Movements, bridged, cents
from tierbook.commands.replay_apply import AccountState
from tierbook.commands.replay_bridge import arr_cents, arr_floats, part_bridge
from tierbook.commands.replay_inputs import InputTable, written
from tierbook.portfolio.frame import input_frame

from .bridge_reference import Movement, bridge_sums


def _states(accounts) -> dict[str, AccountState]:
    return {str(a["account_id"]): AccountState(dict(a)) for a in accounts[:300]}


def test_input_table_is_the_frame_of_the_dicts(default_ruleset, sample_accounts) -> None:
    rs = default_ruleset
    states = _states(sample_accounts)
    table = InputTable(rs)
    ids = list(states)
    assert_frame_equal(table.rows(states, ids), input_frame(rs, [states[i].inputs for i in ids]))
    rng = random.Random(7)
    for quarter in range(4):
        named = rng.sample(ids, 40)
        for i in named[:30]:  # events change inputs (ARR, a signal, one cleared)
            inputs = states[i].inputs
            inputs["arr"] = round(rng.uniform(0, 500_000), 2)
            inputs["seats_used"] = rng.choice([None, rng.randint(0, 900)])
        for k in range(3):  # new accounts join at the end
            new = dict(sample_accounts[-1 - k - 3 * quarter])
            new["account_id"] = f"NEW-{quarter}-{k}"
            states[new["account_id"]] = AccountState(new)
            named.append(new["account_id"])
        table.changed((i, name) for i in named for name in ("arr", "seats_used"))
        ids = list(states)
        served = [i for i in ids if rng.random() < 0.8]  # any accounts, in the part's order
        assert_frame_equal(
            table.rows(states, served), input_frame(rs, [states[i].inputs for i in served])
        )
        assert table.rows(states, []).height == 0


def test_an_unnamed_change_is_not_read_again(default_ruleset, sample_accounts) -> None:
    """(What the table keeps: an account no event named keeps its last quarter's row.)"""
    states = _states(sample_accounts)
    table = InputTable(default_ruleset)
    first = next(iter(states))
    before = table.rows(states, [first])["arr"][0]
    states[first].inputs["arr"] = before + 1000
    assert table.rows(states, [first])["arr"][0] == before
    table.changed([(first, "seats_used")])  # another input of it written: not its ARR
    assert table.rows(states, [first])["arr"][0] == before
    table.changed([(first, "arr")])
    assert table.rows(states, [first])["arr"][0] == before + 1000


def test_written_are_the_inputs_apply_writes(default_ruleset, sample_accounts) -> None:
    """The cells ``written`` names are those applying the events changes (and no more
    than the events' own accounts and fields)."""
    from tierbook.commands.replay_part import Part
    from tierbook.portfolio.events import Event

    part = Part(default_ruleset, sample_accounts[:50], "auto", True, "skip", "events")
    ids = list(part.states)
    events = [
        Event(2, "2026Q4", ids[0], "renewal", {"arr": 1234.5}),
        Event(3, "2026Q4", ids[1], "expansion", {"arr": 10.0}),
        Event(4, "2026Q4", ids[2], "contraction", {"arr": 10.0}),
        Event(5, "2026Q4", ids[3], "signal", {"Seats Used": "7", "not_an_input": "x"}),
        Event(6, "2026Q4", ids[4], "churn", {}),
        Event(7, "2026Q4", "NEW-1", "new_account", {"arr": "5000", "health_score": "70"}),
        Event(8, "2026Q4", "", "capacity_change", {"csms": 3}),
    ]
    before = {i: dict(st.inputs) for i, st in part.states.items()}
    part.apply("2026Q4", events, part.states, Counter())
    cells = set(written(events, "arr", part.input_names))
    assert cells == {
        (ids[0], "arr"),
        (ids[1], "arr"),
        (ids[2], "arr"),
        (ids[3], "seats_used"),
        ("NEW-1", "arr"),
        ("NEW-1", "health_score"),
    }
    for i, inputs in before.items():
        for name, value in part.states[i].inputs.items():
            if value != inputs.get(name):
                assert (i, name) in cells


def test_arr_cents_is_cents(default_ruleset, sample_accounts) -> None:
    states = _states(sample_accounts)
    values = [0.005, 0.015, 2.675, 1e-9, 123456.785, None, 0, -0.0, 99.995]
    for i, v in zip(states, values):
        states[i].inputs["arr"] = v
    ids = list(states)
    frame = InputTable(default_ruleset).rows(states, ids)
    assert arr_cents(frame, "arr") == [cents(states[i].inputs.get("arr")) for i in ids]
    assert arr_cents(frame, "no_such_input") == [0] * len(ids)
    floats = [float(states[i].inputs.get("arr") or 0.0) for i in ids]
    assert [repr(v) for v in arr_floats(frame, "arr")] == [repr(v) for v in floats]
    assert [type(v) for v in arr_floats(frame, "arr")] == [float] * len(ids)
    assert arr_floats(frame, "no_such_input") == [0.0] * len(ids)


TIERS = ["high_touch_enterprise", "mid_touch", "tech_touch", "plg_self_serve"]


def _movements(rng: random.Random, n: int) -> dict[str, Movement]:
    out = {}
    for k in range(n):
        kind = rng.choice(["", "", "", "new", "reactivated"])
        start = 0 if kind else rng.randint(0, 10_000_000)
        end = rng.choice([start, rng.randint(0, 10_000_000)])
        tier = "" if kind else rng.choice(TIERS)
        out[f"A{k}"] = Movement(tier, start, rng.choice(TIERS), end, kind, rng.random() < 0.1)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_bridged_sums_are_bridge_sums(default_ruleset, seed: int) -> None:
    rng = random.Random(seed)
    moved = _movements(rng, rng.choice([0, 1, 50, 400]))
    ms = list(moved.values())
    columns = Movements(
        [m.start_tier for m in ms],
        [m.start for m in ms],
        [m.end_tier for m in ms],
        [m.end for m in ms],
        [m.kind for m in ms],
        [m.churned for m in ms],
    )
    found = bridged(default_ruleset, columns, [m.end_tier for m in ms], [m.end for m in ms])
    assert found.sums == bridge_sums(default_ruleset, moved)
    assert [list(row) for row in found.sums.values()] == [
        list(row) for row in bridge_sums(default_ruleset, moved).values()
    ]
    assert (found.moved, found.gone) == (len(ms), sum(m.churned for m in ms))
    for tier in TIERS:
        assert found.started.get(tier, 0) == sum(
            m.start for m in ms if not m.kind and m.start_tier == tier
        )
        assert found.held.get(tier, 0) == sum(m.end for m in ms if m.end_tier == tier)


def test_part_bridge_reads_the_accounts(default_ruleset, sample_accounts) -> None:
    states = _states(sample_accounts)
    ids = list(states)
    for k, i in enumerate(ids):
        states[i].held = TIERS[k % 4]
    start = ids[:-20]
    start_tier = {i: states[i].held for i in start}
    start_arr = {i: cents(states[i].inputs.get("arr")) for i in start}
    for i in ids[:10]:
        states[i].churned_in = "2026Q4"
    for i in ids[10:30]:
        states[i].held = TIERS[0]
        states[i].inputs["arr"] = 12345.67
    joined = {i: TIERS[1] for i in ids[-20:-5]}
    rejoined = {i: TIERS[2] for i in ids[-5:]}

    def cents_of(wanted: list[str]) -> list[int]:
        return [cents(states[i].inputs.get("arr")) for i in wanted]

    found = part_bridge(
        default_ruleset, states, (start_tier, start_arr), joined, rejoined, cents_of
    )
    moved = {
        i: Movement(
            t, start_arr[i], states[i].held, cents_of([i])[0], churned=bool(states[i].churned_in)
        )
        for i, t in start_tier.items()
    }
    for kind, entered in (("new", joined), ("reactivated", rejoined)):
        for i, t in entered.items():
            moved[i] = Movement("", 0, t, cents_of([i])[0], kind)
    assert found.sums == bridge_sums(default_ruleset, moved)
    assert found.gone == 10 and found.moved == len(ids)
