"""Overrides through a replay: an override that pins the tier (or holds it), adds or removes
a flag is honoured in every quarter that ends on or before its expiry date, and from the
next quarter on the rules decide: an account an override moved to its tier goes back to the
tier the rules give it in the first quarter after the expiry (unless they move it anyway).
What history shows: the quarter an override starts (a move to the pinned tier, or a note
when the account is there already), each quarter it holds a move the rules would make
(`held`, the rule `override:<id>`), and the quarter it ends."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import polars as pl

from ..assess.transitions import Outcome
from .model import Override, Overrides


class Pins:
    def __init__(self, found: Overrides) -> None:
        self.by_account: dict[str, list[Override]] = {}
        self.flagged: dict[str, list[Override]] = {}  # account -> its flag overrides
        for o in found.overrides:
            if o.tier or o.hold:
                self.by_account.setdefault(o.account, []).append(o)
            if o.add_flags or o.remove_flags:
                self.flagged.setdefault(o.account, []).append(o)
        self.in_force: dict[str, Override] = {}  # account -> its override last quarter
        self.placed: set[str] = set()  # accounts an override moved to the tier they are in
        self.notes: dict[str, dict[str, dict[str, str]]] = {}  # quarter -> account -> row

    def _on(self, account_id: str, day: dt.date) -> Override | None:
        found = [o for o in self.by_account.get(account_id, ()) if o.active(day)]
        return next((o for o in found if o.tier), found[0] if found else None)

    def start(self, account_id: str, as_of: dt.date, tier: str) -> str:
        """The tier an account starts the replay in."""
        o = self._on(account_id, as_of)
        if o is None:
            return tier
        self.in_force[account_id] = o
        if o.tier and o.tier != tier:
            self.placed.add(account_id)
        return o.tier or tier

    def flags(
        self, account_id: str, as_of: dt.date, flags: list[str]
    ) -> tuple[list[str], dict[str, str]]:
        """The account's flags with the flag overrides in force on ``as_of`` (a quarter's
        end) applied, and the override behind each flag it added or removed (its rule in
        the quarter's raised and cleared flags)."""
        out, by = list(flags), {}
        for o in self.flagged.get(account_id, ()):
            if not o.active(as_of):
                continue
            for f in o.add_flags:
                if f not in out:
                    out.append(f)
                by[f] = f"override:{o.id}"
            for f in o.remove_flags:
                if f in out:
                    out.remove(f)
                by[f] = f"override:{o.id}"
        return out, by

    def _note(self, quarter: str, account_id: str, rule: str, because: str) -> None:
        self.notes.setdefault(quarter, {})[account_id] = {"rule": rule, "because": because}

    def outcome(
        self, account_id: str, quarter: str, as_of: dt.date, before: str, evaluated: str, ruled: Any
    ) -> Any:
        """The quarter's outcome for the account: the rules' one (``ruled``), unless an
        override in force at the quarter's end pins or holds the tier."""
        o = self._on(account_id, as_of)
        prev = self.in_force.pop(account_id, None)
        if o is None:
            if prev is None:
                return ruled
            ended = f"override {prev.id} ended on {prev.expires.isoformat()}: the rules decide"
            placed = account_id in self.placed
            self.placed.discard(account_id)
            if ruled.outcome == "stay" and placed and evaluated != before:
                # the tier the override moved it to was never the rules' choice: it goes
                # back to theirs (one that kept the account where it was, like a hold, leaves
                # the transition rules to move it from there)
                return Outcome(
                    "moved",
                    evaluated,
                    f"override:{prev.id}",
                    f"override {prev.id} ended on {prev.expires.isoformat()}: back to the "
                    f"rules' tier {evaluated}",
                )
            if ruled.outcome == "stay":
                self._note(quarter, account_id, f"override:{prev.id}", ended)
                return ruled
            return replace(ruled, because=f"{ended}; {ruled.because}")
        self.in_force[account_id] = o
        target = o.tier or before
        rule, said = f"override:{o.id}", f"{o.does()} {o.by_whom()}"
        if before != target:
            self.placed.add(account_id)
            return Outcome("moved", target, rule, f"override start: {said} (rules say {evaluated})")
        if ruled.outcome == "moved" and ruled.to != target:
            return Outcome(
                "held", target, rule, f"override held: {said} (rules say {ruled.to})", ruled.to
            )
        if prev is None or prev.id != o.id:
            self._note(quarter, account_id, rule, f"override start: {said}")
        return ruled

    def annotate(self, quarter: str, rows: pl.DataFrame) -> pl.DataFrame:
        """The stored movement rows of a quarter (``trace.movements.movement_rows``' frame):
        a stay that an override started or ended in says so."""
        notes = self.notes.get(quarter)
        if not notes:
            return rows
        noted = pl.DataFrame(
            {
                "account_id": list(notes),
                "note_rule": [n["rule"] for n in notes.values()],
                "note_because": [n["because"] for n in notes.values()],
            },
            schema={"account_id": pl.String, "note_rule": pl.String, "note_because": pl.String},
        )
        said = (pl.col("outcome") == "stay") & pl.col("note_rule").is_not_null()
        return (
            rows.join(noted, on="account_id", how="left", maintain_order="left")
            .with_columns(
                pl.when(said).then(pl.col("note_rule")).otherwise(pl.col("rule")).alias("rule"),
                pl.when(said)
                .then(pl.col("note_because"))
                .otherwise(pl.col("because"))
                .alias("because"),
            )
            .drop("note_rule", "note_because")
        )


def pins_for(ruleset: Any, given: str | None) -> Pins | None:
    """The overrides a replay honours (`--overrides`, else the file the ruleset names)."""
    from .select import overrides_for

    found = overrides_for(ruleset, given)
    return None if found is None else Pins(found)
