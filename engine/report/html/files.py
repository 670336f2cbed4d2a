"""report.html written where no --out folder is: `plan --html FILE`, replaced whole (a
temporary file beside it, then renamed) so a failed run leaves the previous page."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...errors import DataError


def write_page(path: str, text: str) -> None:
    target = Path(path)
    if target.is_dir():
        raise DataError(f"--html {path} is a folder; name the file to write (say report.html)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tierbook-tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_plan_html(plan: Any, path: str) -> None:
    """The plan's page (``runs.plan_page``) with the moved accounts' traces."""
    from .runs import plan_page, plan_traces

    write_page(path, plan_page(plan.as_json(), plan_traces(plan)))
