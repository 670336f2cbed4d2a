"""The parts every report.html is made of: escaped text, numbers as the reports print them,
tables from rows, the searchable account table, and the page around the sections.

Everything is a string built from the run's documents; nothing reads a clock, so the same
run gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

from .assets import CSS, JS

if TYPE_CHECKING:
    import polars as pl


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def fmt(value: Any) -> str:
    """A value as the text reports print it: blank, yes/no, thousands, shares to 4 places."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.2f}" if abs(value) >= 100 else f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "; ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


def money(value: Any) -> str:
    return "" if value is None else f"${float(value):,.0f}"


def _td(value: Any) -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td class="num">{esc(fmt(value))}</td>' if numeric else f"<td>{esc(fmt(value))}</td>"


def table(
    heads: Sequence[str], rows: Iterable[Sequence[Any]], *, raw: bool = False, cls: str = ""
) -> str:
    """A table; ``raw``: the cells are HTML already (made with ``esc``)."""
    out = [f'<table class="{cls}">' if cls else "<table>", "<thead><tr>"]
    out += [f"<th>{esc(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = (f"<td>{c}</td>" for c in row) if raw else map(_td, row)
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def pairs(rows: Iterable[tuple[str, Any]]) -> str:
    """Facts as a two-column table: a name (a header cell) and its value."""
    body = "".join(f"<tr><th>{esc(k)}</th>{_td(v)}</tr>" for k, v in rows)
    return f"<table><tbody>{body}</tbody></table>"


def dict_table(rows: Sequence[dict[str, Any]], limit: int = 200) -> str:
    """A list of objects as a table, columns in the order they first appear (a shape some
    other part of tierbook adds keys to: every key shows, none is assumed)."""
    if not rows:
        return '<p class="note">none</p>'
    heads: list[str] = []
    for r in rows:
        heads += [k for k in r if k not in heads]
    body = table(heads, ([r.get(h) for h in heads] for r in rows[:limit]))
    more = len(rows) - limit
    return body + (f'<p class="note">and {more:,} more</p>' if more > 0 else "")


def account_button(account_id: Any) -> str:
    """An account named in a section: a click opens it in the account table."""
    return f'<button class="acct" data-account="{esc(account_id)}">{esc(account_id)}</button>'


def accounts_list(ids: Sequence[Any], limit: int = 40, more: int | None = None) -> str:
    """The first ``limit`` of ``ids`` as buttons; ``more``: how many follow them when ``ids``
    holds only the first ones already."""
    shown = ", ".join(account_button(a) for a in ids[:limit])
    more = len(ids) - limit if more is None else more + max(0, len(ids) - limit)
    return shown + (f" and {more:,} more (search the account table)" if more > 0 else "")


def kpis(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="kpis">'
        + "".join(f'<div class="kpi"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in items)
        + "</div>"
    )


def status_cell(status: str) -> str:
    cls = {"passed": "pass", "failed": "fail", "waived": "waived"}.get(status, "")
    return f'<span class="{cls}">{esc(status)}</span>' if cls else esc(status)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class Texts:
    """Values already JSON text, one per row (a polars column of text, ``report.cells``),
    written in a script's data as the JSON array of them."""

    def __init__(self, texts: pl.Series) -> None:
        self.texts = texts

    def json(self) -> str:
        return "".join(self.pieces())

    def pieces(self, size: int = 50_000) -> Iterator[str]:
        """The array's text, ``size`` values to a piece."""
        yield "["
        for start in range(0, len(self.texts), size):
            part = self.texts.slice(start, size).str.join(",").item()
            yield ("," if start else "") + part
        yield "]"


def _json_pieces(data: Any) -> Iterator[str]:
    """``data`` as compact JSON (json.dumps's text), a ``Texts`` inside it as its array, in
    pieces: each column's array is made only when its turn comes."""
    if isinstance(data, Texts):
        yield from data.pieces()
    elif isinstance(data, dict) and any(isinstance(v, Texts | dict) for v in data.values()):
        for i, (k, v) in enumerate(data.items()):
            yield ("," if i else "{") + _dumps(str(k)) + ":"
            yield from _json_pieces(v)
        yield "}"
    else:
        yield _dumps(data)


def _unclosing(text: str) -> str:
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def script_json_pieces(element_id: str, data: Any) -> Iterator[str]:
    """Data for the page's script: JSON in a script element the browser never runs, with
    ``</`` written ``<\\/`` so no text in it can close the element.  The pieces are escaped
    one by one: none ends with ``<`` (each ends a JSON value or a bracket, colon or comma),
    so no ``</`` or ``<!--`` spans two of them."""
    yield f'<script type="application/json" id="{element_id}">'
    for piece in _json_pieces(data):
        yield _unclosing(piece)
    yield "</script>"


def script_json(element_id: str, data: Any) -> str:
    return "".join(script_json_pieces(element_id, data))


@dataclass
class AccountTable:
    """The account table's data and controls: ``cols`` one array per column, ``decided`` the
    columns held once per firing path (``path_of``: each account's path index), ``traces``
    the embedded decision traces by account id, ``command`` how to get any other account's
    (``{id}`` stands for the account)."""

    columns: list[str]
    cols: Mapping[str, list[Any] | Texts]
    command: str
    untraced: str
    decided: dict[str, list[Any]] = field(default_factory=dict)
    path_of: list[int] | Texts | None = None
    traces: dict[str, str] = field(default_factory=dict)
    filters: dict[str, list[str]] = field(default_factory=dict)  # column -> its choices
    search: list[str] = field(default_factory=list)
    group: list[str] | None = None  # rows of one account shown together (replay's quarters)
    page_size: int = 50

    def html(self, counts: str) -> str:
        return "".join(self.pieces(counts))

    def pieces(self, counts: str) -> Iterator[str]:
        """The section's text in pieces (``html`` joins them): the data's columns one at a
        time, so a page can be written to its file without the whole of it in memory."""
        data = {
            "columns": self.columns,
            "cols": self.cols,
            "decided": self.decided,
            "path_of": self.path_of,
            "command": self.command,
            "untraced": self.untraced,
            "search": self.search or self.columns[:2],
            "group": self.group,
            "page_size": self.page_size,
        }
        selects = "".join(
            f'<label>{esc(col)} <select data-filter="{esc(col)}"><option value="">all</option>'
            + "".join(f'<option value="{esc(c)}">{esc(c)}</option>' for c in choices)
            + "</select></label>"
            for col, choices in self.filters.items()
        )
        traced = (
            '<label><input type="checkbox" id="tb-traced"> with a trace in this page</label>'
            if self.traces
            else ""
        )
        yield (
            f'<p class="note">{esc(counts)}</p>'
            '<p class="note print-only">Printed: the page of the table on screen when printed '
            "(search or filter first to print the accounts you want).</p>"
            '<div class="controls"><input type="search" id="tb-search" '
            'placeholder="search id, name, ..." aria-label="search accounts">'
            f"{selects}{traced}"
            '<span class="pager"><button id="tb-prev">previous</button> '
            '<button id="tb-next">next</button></span> <span id="tb-page"></span></div>'
            '<div id="tb-trace" hidden></div>'
            '<div class="scroll"><table id="tb-accounts-table"><thead><tr>'
            + "".join(f"<th>{esc(c)}</th>" for c in self.columns)
            + "</tr></thead><tbody></tbody></table></div>"
        )
        yield from script_json_pieces("tb-table", data)
        yield from script_json_pieces("tb-traces", self.traces)


def section(anchor: str, title: str, body: str) -> tuple[str, str, str]:
    return anchor, title, body


Body = str | Iterable[str]  # a section's HTML, whole or in pieces


def document(title: str, subtitle: Sequence[str], sections: Sequence[tuple[str, str, Body]]) -> str:
    """The whole page: header, contents, sections, the style sheet and script inline."""
    return "".join(document_pieces(title, subtitle, sections))


def document_pieces(
    title: str, subtitle: Sequence[str], sections: Sequence[tuple[str, str, Body]]
) -> Iterator[str]:
    """``document``'s text in pieces, a section given in pieces kept so."""
    toc = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t, _ in sections)
    lines = "".join(f"<p>{esc(s)}</p>" for s in subtitle)
    yield (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>{esc(title)}</h1>{lines}</header>'
        f'<nav class="toc">{toc}</nav><main>'
    )
    for a, t, html in sections:
        yield f'<section id="{esc(a)}"><h2>{esc(t)}</h2>'
        if isinstance(html, str):
            yield html
        else:
            yield from html
        yield "</section>"
    yield f"</main><script>{JS}</script></body></html>\n"
