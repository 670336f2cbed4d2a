"""What a portfolio file's bytes say before they are read as records: where they are not
UTF-8 (Excel's plain "CSV" is Windows-1252), and Excel's ``sep=`` first line.

A file that is not UTF-8 is refused, each line holding such a byte named with the cell it
is in: guessing the encoding would turn a name into other characters without a word, and
the same file would read differently on another machine.
"""

from __future__ import annotations

import csv
import re

from ..errors import DataError, Problem

MAX_LINES = 10  # lines named in a file that is not UTF-8
_SEP = re.compile(rb'\A"?sep=([^\r\n"]*)"?[ \t]*(?:\r?\n|\Z)', re.IGNORECASE)
_BAD = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape keeps it
_NAMES = {";": "semicolon", "\t": "tab", "|": "pipe"}
_SAVE = "save it as UTF-8{how} and read it again"
_EXCEL = ' (Excel: Save As "CSV UTF-8 (Comma delimited)")'


def excel_sep(body: bytes, file: str) -> bool:
    """Whether the file starts with Excel's ``sep=,`` line.  Excel writes it, reads it and
    hides it; most CSV tools skip it, and so does tierbook: the header is the line after it.
    A ``sep=`` naming another separator is refused, located."""
    found = _SEP.match(body)
    if found is None:
        return False
    sep = found.group(1).decode("utf-8", "replace")
    if sep == ",":
        return True
    name = _NAMES.get(sep, f"'{sep}'")
    sep = sep.encode("unicode_escape").decode("ascii")  # (a tab shown as \t)
    raise DataError(
        "wrong delimiter",
        [
            Problem(
                file,
                1,
                1,
                "",
                f"the first line 'sep={sep}' says the file is {name}-separated, but tierbook "
                "reads comma-separated CSV; re-export it with commas",
                "delimiter",
            )
        ],
    )


def not_utf8(raw: bytes, file: str, cells: bool) -> DataError:
    """The error for a file that does not decode as UTF-8: each line (up to
    ``MAX_LINES``) with a byte that is not, at its first such byte.  ``cells``: a CSV file,
    where the column is the cell's (named by the header), else the character's."""
    text = raw.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    if text.count("\r") != text.count("\r\n"):  # old Mac line breaks, as the CSV reader
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    first = text.split("\n", 2)
    top = 1 if len(first) > 1 and _SEP.match(first[0].encode("utf-8", "surrogateescape")) else 0
    headers = next(csv.reader([first[top]]), []) if cells and len(first) > top else []
    problems: list[Problem] = []
    lines = 0
    line, start, at = 1, 0, 0  # the line (1-based) that starts at offset ``start``
    for bad in _BAD.finditer(text):
        i = bad.start()
        if i < at:  # (a line already named)
            continue
        line += text.count("\n", start, i)
        start = text.rfind("\n", 0, i) + 1
        at = text.find("\n", i) + 1 or len(text)
        lines += 1
        if len(problems) == MAX_LINES:
            continue
        before = text[start:i]
        column, path = len(before) + 1, ""
        if cells:
            column = _cells_before(before) + 1
            if line > top + 1 and column <= len(headers):
                path = headers[column - 1].strip()
        byte = ord(bad.group()) - 0xDC00
        problems.append(
            Problem(file, line, column, path, _message(byte, cells, not problems), "encoding")
        )
    if lines > MAX_LINES:
        last = problems[-1]
        more = f" ({lines - MAX_LINES} more lines are not UTF-8 either)"
        problems[-1] = Problem(
            file, last.line, last.column, last.path, last.message + more, last.code
        )
    return DataError(f"{file}: not UTF-8", problems)


def _cells_before(before: str) -> int:
    """The commas outside quotes in the start of a line: the cells before the offset."""
    quoted = False
    count = 0
    for ch in before:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            count += 1
    return count


def _message(byte: int, cells: bool, first: bool) -> str:
    """The first line named says what is wrong and what to do; the others where else."""
    try:
        guess = f" ('{bytes([byte]).decode('cp1252')}' in Windows-1252)"
    except UnicodeDecodeError:
        guess = ""
    found = f"byte 0x{byte:02X}{guess} is not UTF-8 text"
    if not first:
        return found
    if cells:
        return (
            'the CSV file is not UTF-8 (Excel\'s plain "CSV" is Windows-1252): '
            f"{found}; {_SAVE.format(how=_EXCEL)}"
        )
    return f"the file is not UTF-8: {found}; {_SAVE.format(how='')}"
