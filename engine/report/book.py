"""The current book and the CSM books in model.md, the terminal summary, report.json, and
changes.csv (engine/book computes them; this module only renders)."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..assess.result import SegmentResult
from ..book.changes import COLUMNS
from ..book.csms import CsmBook, CsmBooks
from ..book.current import BookMoves
from ..book.of_result import the_book
from .cells import csv_cells

STATUS = {"over": "over-loaded ✗", "under": "under-loaded", "ok": "ok ✓"}


def _money(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${round(value, 2) + 0.0:,.2f}"


def _brief(value: float) -> str:
    """ARR in a few characters, for the terminal: $28.7M, $495K, $80."""
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f}M"
    return f"${value / 1e3:,.0f}K" if abs(value) >= 1e3 else f"${value:,.0f}"


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "0.0%"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def _load(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# -- report.json -------------------------------------------------------------------------


def json_keys(result: SegmentResult) -> dict[str, Any]:
    """``current_book`` and ``csm_books``, each present only where its column is declared."""
    book = the_book(result)
    out: dict[str, Any] = {}
    if book.moves is not None:
        out["current_book"] = book.moves.as_json()
    if book.csms is not None:
        out["csm_books"] = book.csms.as_json()
    return out


# -- changes.csv -------------------------------------------------------------------------


def write_changes_csv(result: SegmentResult, path: str) -> None:
    """changes.csv (none when the ruleset has no current-tier column): each cell as
    Python's csv writer writes the row's text (a formula neutralised with a leading ``'``,
    ARR to the cent), made by polars a column at a time."""
    frame = the_book(result).change_frame
    if frame is not None:
        write_change_frame(frame, path)


def write_change_frame(frame: pl.DataFrame, path: str) -> None:
    """changes.csv of its rows (``book.changes.change_frame``'s)."""
    cells = pl.DataFrame(
        [csv_cells(frame[c], c == "arr", False).rename(c) for c in COLUMNS], height=frame.height
    )
    with open(path, "wb") as fh:
        fh.write((",".join(COLUMNS) + "\n").encode())
        cells.write_csv(fh, include_header=False, quote_style="never")


# -- model.md ----------------------------------------------------------------------------


def moves_markdown(result: SegmentResult) -> list[str]:
    """Section 5's part: the moves from the CRM's current tier to the new one."""
    moves = the_book(result).moves
    if moves is None:
        return []
    n = len(moves.current)
    tiers = result.ruleset.tier_ids
    moved = moves.moved
    out = ["", "### Moves against the current book", ""]
    labels = ", ".join(f"`{_md(k)}` -> {v}" for k, v in moves.labels.items())
    out.append(
        f"Current tier: column `{moves.column}`, the CRM's labels mapped to tiers ({labels}). "
        f"**{moved.accounts:,} of {n:,} accounts move** ({_pct(moved.accounts, n)}), "
        f"{_money(moved.arr)} ARR: {moves.upgrades.accounts:,} upgrades "
        f"({_money(moves.upgrades.arr)}), {moves.downgrades.accounts:,} downgrades "
        f"({_money(moves.downgrades.arr)}); {moves.unchanged.accounts:,} stay "
        f"({_money(moves.unchanged.arr)}). The accounts that change are in changes.csv."
    )
    out.append("")
    out.extend(_unplaced(moves))
    out.append("| current \\ new | " + " | ".join(tiers) + " | total |")
    out.append("|---|" + "---|" * (len(tiers) + 1))
    for a in tiers:
        row = [moves.matrix.get((a, b)) for b in tiers]
        total = sum(t.accounts for t in row if t)
        cells = [
            ("" if t is None else f"**{t.accounts:,}**" if a == b else f"{t.accounts:,}")
            for t, b in zip(row, tiers)
        ]
        out.append(f"| {a} | " + " | ".join(cells) + f" | {total:,} |")
    off = [(k, t) for k, t in moves.matrix.items() if k[0] != k[1]]
    if off:
        order = {t: i for i, t in enumerate(tiers)}
        out += ["", "| from | to | move | accounts | ARR |", "|---|---|---|---|---|"]
        for (a, b), t in off:
            kind = "upgrade" if order[b] < order[a] else "downgrade"
            out.append(f"| {a} | {b} | {kind} | {t.accounts:,} | {_money(t.arr)} |")
    return out


def _unplaced(moves: BookMoves) -> list[str]:
    out = []
    if moves.unknown.accounts:
        out.append(
            f"- Unknown current tier (blank `{moves.column}`): {moves.unknown.accounts:,} "
            f"accounts, {_money(moves.unknown.arr)} ARR (in changes.csv as `set`)."
        )
    for label, t in moves.unmapped.items():
        out.append(
            f"- Unmapped label `{_md(label)}` (no tier in `current_book.labels`): "
            f"{t.accounts:,} accounts, {_money(t.arr)} ARR (in changes.csv as `set`)."
        )
    if not out:
        out.append("Every account's current tier is known and mapped.")
    return [*out, ""]


def csm_markdown(result: SegmentResult) -> list[str]:
    """Section 6's part: every named CSM's book, and the rebalancing proposal."""
    books = the_book(result).csms
    if books is None:
        return []
    held = sum(b.accounts for b in books.csms)
    rs = result.ruleset
    weight = rs.current_book.complexity
    out = ["", "### CSM books", ""]
    out.append(
        f"{len(books.csms):,} named CSMs hold {held:,} accounts "
        f"({_money(sum(b.arr for b in books.csms))} ARR); {books.unassigned.accounts:,} "
        f"accounts ({_money(books.unassigned.arr)}) have no named CSM. Load: each account "
        + (
            f"weighted by `{weight}` / {rs.current_book.complexity_neutral:g}"
            if weight
            else "weighing 1"
        )
        + ", over its new tier's target book size (1.00 = one target-size book); "
        "capacity and floor: the same tier mix at the largest and smallest book sizes."
    )
    out += ["", "| CSM | accounts | ARR | tier mix | load | floor | capacity | status |"]
    out.append("|---|---|---|---|---|---|---|---|")
    for b in books.csms:
        out.append(_book_row(b))
    out += ["", *_rebalancing(books)]
    return out


def _book_row(b: CsmBook) -> str:
    mix = ", ".join(f"{t} {n}" for t, n in b.tiers.items())
    return (
        f"| {_md(b.csm)} | {b.accounts:,} | {_money(b.arr)} | {mix} | {_load(b.load)} | "
        f"{_load(b.floor)} | {_load(b.capacity)} | {STATUS[b.status]} |"
    )


def _rebalancing(books: CsmBooks) -> list[str]:
    over = books.count("over")
    if not over:
        return ["No CSM is over-loaded: no rebalancing proposed."]
    left = books.count("over", books.after)
    out = [
        f"Rebalancing: {len(books.rebalancing):,} account move(s) for {over} over-loaded "
        f"CSM(s), the fewest that cover each book's excess (heaviest accounts first); "
        + ("none is over-loaded after them." if not left else _still_over(books, left))
    ]
    if books.rebalancing:
        out += ["", "| account | tier | from | to | load moved |", "|---|---|---|---|---|"]
        for m in books.rebalancing:
            out.append(
                f"| {m.account_id} | {m.tier} | {_md(m.from_csm)} | {_md(m.to_csm)} | "
                f"{m.load_moved:.3f} |"
            )
    return out


def _still_over(books: CsmBooks, left: int) -> str:
    full = sum(b.load / b.capacity for b in books.csms if b.capacity)
    return (
        f"{left} stay over-loaded: no other CSM has the room for their excess (the named "
        f"books add up to {full:.1f} largest-size books for {len(books.csms)} CSMs), so a "
        "book that cannot be brought within its capacity gives nothing away."
    )


# -- terminal ----------------------------------------------------------------------------


def terminal_rows(result: SegmentResult) -> list[tuple[bool, str]]:
    """(all well?, text) per line of the terminal summary."""
    book = the_book(result)
    out = []
    moves = book.moves
    if moves is not None:
        unplaced = moves.unknown.accounts + sum(t.accounts for t in moves.unmapped.values())
        out.append(
            (
                not unplaced,
                f"current book: {moves.moved.accounts:,} of {len(moves.current):,} move · "
                f"{moves.upgrades.accounts:,} up {_brief(moves.upgrades.arr)} · "
                f"{moves.downgrades.accounts:,} down {_brief(moves.downgrades.arr)}"
                + (f" · {unplaced:,} unknown/unmapped" if unplaced else ""),
            )
        )
    books = book.csms
    if books is not None and books.csms:
        over, under = books.count("over"), books.count("under")
        out.append(
            (
                not over,
                f"CSM books: {len(books.csms)} CSMs, {over} over-loaded, {under} under · "
                f"rebalance: {len(books.rebalancing)} move(s)",
            )
        )
    return out
