"""A replay quarter's account events applied to the accounts' states: the one place they
are checked, by the replay and, before it, by ``replay_check`` on copies of the accounts.

A ``reactivation`` brings back an account that churned in an earlier quarter: it is served
again from that quarter, at the ARR the event gives, with its other inputs as they were
when it left (docs/events.md)."""

from __future__ import annotations

from collections import ChainMap, Counter, defaultdict
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ..portfolio.cells import BadValue
from ..portfolio.cells import typed as _typed
from ..portfolio.events import Event

if TYPE_CHECKING:
    from ..ruleset.model import Input, Ruleset


_UNREAD = object()
KEPT_TEXTS = 65_536  # the signal texts read once each (the rest are read each time)


@dataclass
class AccountState:
    inputs: dict[str, Any]
    held: str = ""
    flags: list[str] = field(default_factory=list)
    churned_in: str = ""
    created_in: str = ""
    dropped: bool = False  # a new account left out for a bad event: never served
    placed_bands: dict[str, str] = field(default_factory=dict)  # when placed in `held`
    returned_in: str = ""  # the quarter of its latest reactivation

    def copy(self) -> AccountState:
        """A copy that events may be applied to and leave this state as it was: its inputs
        read through to these until one is written (the lists and dicts that applying
        events never writes are shared)."""
        inputs = cast("dict[str, Any]", ChainMap({}, self.inputs))  # (read as a dict is)
        return AccountState(**(vars(self) | {"inputs": inputs}))


@dataclass
class Applied:
    """What a quarter's account events did: the accounts touched (-> their event types),
    churned, new and reactivated, each list in file order."""

    touched: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    churned: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)


class ApplyEvents:
    """The part of a replay that applies events (``replay_part.Part`` has the attributes)."""

    rs: Ruleset
    states: dict[str, AccountState]
    problems: list[Any]
    file: str
    arr_field: str
    inputs: dict[str, Input]
    input_names: Any
    parsers: dict[str, Any]
    typed_values: dict[tuple[str, str], Any]  # (input id, text) -> its value
    on_error: str  # "fail" or "skip"

    def _fail(self, event: Event, column: str, message: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def apply(
        self,
        quarter: str,
        events: list[Event],
        states: MutableMapping[str, AccountState],
        ignored: Counter[str],
    ) -> Applied:
        """A quarter's account events applied to ``states``, each bad one reported
        (``_fail``)."""
        out = Applied()
        for e in events:
            if e.type in ("capacity_change", "product_launch"):
                continue
            st = states.get(e.account_id)
            if e.type == "new_account":
                if st is not None:
                    self._fail(e, "account_id", f"new_account '{e.account_id}' already exists")
                    continue
                inputs = {i.id: i.default for i in self.rs.inputs}
                inputs[self.rs.role("account_id") or "account_id"] = e.account_id
                inputs["account_id"] = e.account_id
                st = states[e.account_id] = AccountState(inputs, created_in=quarter)
                out.new.append(e.account_id)
                for name, raw in e.fields.items():
                    self._set(st, e, name, raw, ignored)
                continue
            if st is None:
                self._fail(e, "account_id", f"unknown account '{e.account_id}'")
                continue
            if st.dropped:  # (in a later quarter: its own quarter's are left out with it)
                self._fail(
                    e,
                    "account_id",
                    f"account '{e.account_id}' was left out in {st.churned_in} (its "
                    "new_account event was bad)",
                )
                continue
            if e.type == "reactivation":
                self._reactivate(quarter, e, st, out)
                continue
            if st.churned_in:
                self._fail(
                    e,
                    "account_id",
                    f"account '{e.account_id}' churned in {st.churned_in}; no events may "
                    "follow (a reactivation event brings it back)",
                )
                continue
            out.touched[e.account_id].add(e.type)
            arr = float(st.inputs.get(self.arr_field) or 0.0)
            if e.type == "renewal":
                st.inputs[self.arr_field] = round(e.fields["arr"], 2)
            elif e.type == "expansion":
                st.inputs[self.arr_field] = round(arr + e.fields["arr"], 2)
            elif e.type == "contraction":
                st.inputs[self.arr_field] = round(max(0.0, arr - e.fields["arr"]), 2)
            elif e.type == "churn":
                st.churned_in = quarter
                out.churned.append(e.account_id)
            elif e.type == "signal":
                for name, raw in e.fields.items():
                    self._set(st, e, name, raw, ignored)
        for account_id in out.new:
            st = states[account_id]
            missing = [i.id for i in self.rs.inputs if i.required and st.inputs.get(i.id) is None]
            if missing:
                made = next(
                    e for e in events if e.type == "new_account" and e.account_id == account_id
                )
                line = made.line
                if missing[0] not in {self.input_names(name) for name in made.fields}:
                    self._fail(  # (else its bad value has been reported)
                        Event(line, quarter, account_id, "new_account"),
                        missing[0],
                        f"new account '{account_id}' has no {missing[0]} (send it as a signal "
                        f"in the same quarter)",
                    )
                st.churned_in, st.dropped = quarter, True  # never evaluated
                self._left_out(account_id, line, events, out)
        return out

    def _left_out(self, account_id: str, line: int, events: list[Event], out: Applied) -> None:
        """A new account left out (its new_account line at ``line`` is bad): not counted
        as new nor touched, and with ``--on-error skip`` its other events of the quarter
        are skipped with it, so the quarter counts none of them."""
        out.new.remove(account_id)
        out.touched.pop(account_id, None)
        if self.on_error != "skip":
            return  # (the replay fails at that line)
        for e in events:
            if e.account_id == account_id and e.type != "new_account":
                self._fail(
                    e,
                    "account_id",
                    f"new account '{account_id}' was left out (its new_account event on "
                    f"line {line} is bad): its other events are left out with it",
                )

    def _reactivate(self, quarter: str, e: Event, st: AccountState, out: Applied) -> None:
        if not st.churned_in:
            self._fail(
                e,
                "account_id",
                f"account '{e.account_id}' has not churned: a reactivation brings back a "
                "churned account",
            )
        elif st.churned_in == quarter:
            self._fail(
                e,
                "account_id",
                f"account '{e.account_id}' churned in {quarter}: it may come back from the "
                "next quarter on",
            )
        else:
            st.churned_in, st.returned_in = "", quarter
            st.inputs[self.arr_field] = round(e.fields["arr"], 2)
            out.touched[e.account_id].add(e.type)
            out.reactivated.append(e.account_id)

    def _set(self, st: AccountState, e: Event, name: str, raw: Any, ignored: Counter[str]) -> None:
        inp = self.inputs.get(self.input_names(name) or "")
        if inp is None:
            ignored[name] += 1  # a column this ruleset does not read
            return
        if raw is None or str(raw).strip() == "":
            if inp.required and inp.default is None:
                self._fail(e, name, f"{inp.id} is required: an event cannot leave it blank")
                return
            st.inputs[inp.id] = inp.default
            return
        # a file's signals say the same few values again and again: a text is read once
        # per input (a bad one every time, so each event names its line)
        key = (inp.id, raw) if type(raw) is str else None
        try:
            known = self.typed_values.get(key, _UNREAD) if key else _UNREAD
            if known is _UNREAD:
                known = _typed(inp, raw, self.parsers[inp.id])
                if key and len(self.typed_values) < KEPT_TEXTS:
                    self.typed_values[key] = known
        except BadValue as exc:
            self._fail(e, name, f"{str(raw)!r} {exc}")
            return
        value: Any = known
        if (inp.min is not None and value < inp.min) or (inp.max is not None and value > inp.max):
            low = "-inf" if inp.min is None else inp.min
            high = "inf" if inp.max is None else inp.max
            self._fail(e, name, f"{str(raw)!r} is outside {low}..{high}")
            return
        st.inputs[inp.id] = known
