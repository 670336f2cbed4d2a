"""One parser per input type: the single source of what a cell means and of its message.

A whole column is cast with polars where its text is in the plain form of its type
(``79036.70``, ``0.85``, ``85%``, ``yes``, ``2026-10-01``); every other distinct text of the
column (``$1,200.50``, ``06/20/2025``, a bad value) is read by the scalar parser, which
gives its value or the message that names what is wrong with it.  The two always agree:
the polars forms are exactly those on which the scalar parser is plain ``float``, ``int``,
a table lookup or ISO ``strptime``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from math import isfinite
from typing import TYPE_CHECKING, Any

from ..errors import suggest

if TYPE_CHECKING:
    from ..ruleset.model import Input

# the input types whose values are numbers (compared, summed, banded as such)
NUMERIC_TYPES = frozenset({"integer", "number", "money", "ratio"})

BOOLEAN_TEXTS = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}
# A currency mark: a currency sign (Unicode's currency symbols), with the letters before it
# ("US$", "C$", "R$"), or a three-letter code apart from other letters ("USD 300", "40EUR").
_SIGN = "$¢£¤¥֏؋৲৳৻૱௹฿៛\u20a0-\u20c0꠸﷼\ufe69\uff04\uffe0\uffe1\uffe5\uffe6"
_MARK = re.compile(rf"(?<![A-Za-z])[A-Za-z]{{0,3}}[{_SIGN}]|(?<![A-Za-z])[A-Za-z]{{3}}(?![A-Za-z])")
_IS_SIGN = re.compile(rf"[{_SIGN}]")
# ISO 4217 codes (and RMB): a code not among them ("85 pts") is no currency, not a number
_CODES = frozenset(
    re.findall(
        "[A-Z]{3}",
        """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL
    BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK
    DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR
    ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD
    OMR PAB PEN PGK PHP PKR PLN PYG QAR RMB RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
    SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI
    UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XCD XDR XOF XPF XSU XUA YER ZAR ZMW ZWL""",
    )
)
# the marks of a money input's declared unit that a cell may carry ("$1,200", "USD 300");
# a cell marked in any other currency is refused, never read as if it were in the unit
_OWN_MARKS = {
    "USD": ("US$", "$", "\uff04"),
    "EUR": ("€",),
    "GBP": ("£",),
    "JPY": ("¥",),
    "INR": ("₹",),
}
# commas only between digit groups before the decimal point: "1,200.50", "1,20,000" (lakh)
_GROUPED = re.compile(
    r"[+-]?(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})+,\d{3})(\.\d*)?[kmb]?", re.IGNORECASE
)
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}
# what str.strip() strips: a cell is blank when nothing else is left
# (every character whose isspace() is true; a test holds the two equal)
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003"
    "\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class BadValue(ValueError):
    pass


def _currency(unit: str) -> str:
    """The currency of a money input: its declared ``unit`` where that is an ISO code, else
    USD (the rulesets' money inputs declare ``unit: USD``)."""
    code = unit.strip().upper()
    return code if code in _CODES else "USD"


def _unmarked(s: str, currency: str) -> tuple[str, str | None]:
    """``s`` without its currency marks and spaces, and the first mark of another currency
    than ``currency`` (None when there is none)."""
    own = {currency, *_OWN_MARKS.get(currency, ())}
    foreign: list[str] = []

    def mark(m: re.Match[str]) -> str:
        token = m.group()
        if token.upper() in own:
            return ""
        if token.upper() in _CODES or _IS_SIGN.search(token):
            foreign.append(token)
            return ""
        return token  # not a currency: the text is then not a number

    s = re.sub(r"\s", "", _MARK.sub(mark, s))
    return s, (foreign[0] if foreign else None)


def _number(text: str, currency: str = "USD") -> float:
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if isfinite(value):
            return value
        raise BadValue("is not a finite number")
    s = text.strip()
    negative = s.startswith("(") and s.endswith(")")
    if negative:
        s = s[1:-1]
    s, foreign = _unmarked(s, currency)
    if "," in s:
        if not _GROUPED.fullmatch(s):
            raise BadValue(
                "has a comma that is not a thousands separator (1,200.50 is read; "
                "a decimal comma as in 1.200,50 is not: export numbers with a "
                "decimal point)"
            )
        s = s.replace(",", "")
    mult = 1.0
    if s and s[-1].lower() in _SUFFIX:
        mult = _SUFFIX[s[-1].lower()]
        s = s[:-1]
    try:
        value = float(s) * mult
    except ValueError:
        raise BadValue("is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BadValue("is not a finite number")
    if foreign is not None:  # (a number, but in another currency: not to be read as one)
        raise BadValue(f"is in another currency than {currency}: convert it before the run")
    return -value if negative else value


def parse_money(text: str, currency: str = "USD") -> float:
    """A money cell's amount in ``currency``; BadValue for a cell in another currency."""
    return round(_number(text, currency), 2)


def parse_number(text: str) -> float | int:
    value = _number(text)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def parse_integer(text: str) -> int:
    try:  # a whole number's digits, exactly (a double holds only 15 or 16 of them)
        return int(text)
    except ValueError:
        pass
    value = _number(text)
    if not value.is_integer():
        raise BadValue("is not a whole number")
    return int(value)


def parse_ratio(text: str) -> float:
    s = text.strip()
    if s.endswith("%"):  # held to the same range: 150% is no more a ratio than 1.5 is
        value = _number(s[:-1]) / 100
        if value > 1 or value < 0:
            raise BadValue("is not a ratio between 0 and 1 (a percentage is 0% to 100%)")
        return value
    value = _number(s)
    if value > 1 or value < 0:
        raise BadValue("is not a ratio between 0 and 1 (write percentages with %, e.g. 85%)")
    return value


def parse_boolean(text: str) -> bool:
    try:
        return BOOLEAN_TEXTS[text.strip().lower()]
    except KeyError:
        raise BadValue("is not a yes/no value (true/false, yes/no, 1/0)") from None


def parse_date(text: str) -> dt.date:
    s = text.strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m/%d/%y"):
        try:
            return dt.datetime.strptime(s[:10] if fmt == "%Y-%m-%d" else s, fmt).date()
        except ValueError:
            continue
    raise BadValue("is not a date (YYYY-MM-DD or MM/DD/YYYY)")


def parser(inp: Input, cents: bool = True) -> Callable[[str], Any]:
    """The scalar parser of ``inp``'s type.  ``cents``: a money amount rounded to the cent
    (an account's input); else as written (a table's row, whose sum is rounded instead)."""
    if inp.type == "enum":
        canon = {v.casefold(): v for v in inp.values}

        def enum(text: str) -> str:
            try:
                return canon[text.strip().casefold()]
            except KeyError:
                raise BadValue(
                    f"is not one of {', '.join(inp.values)}" + suggest(text.strip(), inp.values)
                ) from None

        return enum
    if inp.type == "money":
        currency = _currency(inp.unit)

        def money(text: str) -> float:
            return parse_money(text, currency) if cents else _number(text, currency)

        return money
    return {
        "number": parse_number,
        "integer": parse_integer,
        "ratio": parse_ratio,
        "boolean": parse_boolean,
        "date": parse_date,
    }.get(inp.type, str.strip)


def as_text(inp: Input, raw: Any) -> str:
    """A value as given in JSON Lines, Parquet, a test case or an event (it may already be
    typed) as the text its type's parser reads; BadValue for a value of the wrong kind."""
    if isinstance(raw, bool):
        if inp.type == "boolean":
            return "true" if raw else "false"
        raise BadValue("is a boolean, not a " + inp.type)
    if isinstance(raw, (int, float)) and inp.type in NUMERIC_TYPES:
        return repr(raw)
    if isinstance(raw, (dict, list)):
        raise BadValue("is not a single value")
    return str(raw)


def typed(inp: Input, raw: Any, parse: Callable[[str], Any]) -> Any:
    """One value as given in a test case or an event, parsed (``as_text``)."""
    return parse(as_text(inp, raw))
