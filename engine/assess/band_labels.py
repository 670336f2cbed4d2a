"""Band labels that spell out their band's edges (`$1K-$10K`, `<$1K`, `$500K+`), rewritten
when calibration moves an edge, in the label's own style: a threshold never moves under a
label that still shows the old one.

A label counts as spelling its edges when every number in it is one of the band's edges;
labels that are names (`Low`, `Q1`, `Strategic`) are left as they are.
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(
    r"(?<![\w.])(?P<cur>\$?)(?P<num>\d[\d,]*(?:\.\d+)?)(?P<suffix>[KkMmBb]?)(?![\w%])"
)
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}


def _value(m: re.Match[str]) -> float:
    return float(m["num"].replace(",", "")) * _SCALE[m["suffix"].lower()]


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _three_digits(x: float) -> str:
    """At most three significant digits, no trailing zeros: 6.67, 10, 150, 1.5."""
    if x == 0:
        return "0"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    text = f"{round(x, digits):.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _render(value: float, like: re.Match[str]) -> str:
    """``value`` written the way the number ``like`` is written."""
    suffix = like["suffix"]
    if suffix:  # compact: the largest of K/M/B the value reaches, in the original's case
        for letter in "BMK":
            if abs(value) >= _SCALE[letter.lower()]:
                text = _three_digits(value / _SCALE[letter.lower()])
                return like["cur"] + text + (letter if suffix.isupper() else letter.lower())
        return like["cur"] + _three_digits(value)
    decimals = len(like["num"].partition(".")[2])
    if float(value).is_integer() and not decimals:
        return like["cur"] + (f"{int(value):,}" if "," in like["num"] else str(int(value)))
    if like["cur"]:  # money: cents at most
        places = max(decimals, 2)
    else:  # as many decimals as the original, more where the new edge needs them
        places = max(decimals, len(f"{value:.6f}".rstrip("0").partition(".")[2]))
    text = f"{value:,.{places}f}" if "," in like["num"] else f"{value:.{places}f}"
    return like["cur"] + text


def relabel(
    label: str,
    old: tuple[float | None, float | None],
    new: tuple[float | None, float | None],
) -> str | None:
    """The label for the band's new (lower, upper) edges, or None when the label does not
    spell the old ones (a name) or already fits."""
    matches = list(_NUMBER.finditer(label))
    if not matches:
        return None
    pieces: list[str] = []
    end = 0
    for m in matches:
        value = _value(m)
        side = next(
            (i for i, edge in enumerate(old) if edge is not None and _same(value, edge)), None
        )
        if side is None:
            return None  # a number that is not an edge: the label is not the edges' text
        edge = new[side]
        if edge is None:
            return None
        pieces += [label[end : m.start()], _render(edge, m)]
        end = m.end()
    text = "".join(pieces) + label[end:]
    return None if text == label else text
