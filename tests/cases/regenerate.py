"""Rewrite tests/cases/invalid/<kind>.expected from what `tierbook validate` prints today.

The expected files are the contract of tests/test_validate_cases.py: the exact, complete
stdout of ``tierbook validate tests/cases/invalid/<kind>.yaml`` run from the repo root.
After an intended change to a validator message, regenerate and READ THE DIFF before
committing it: every changed line is a change users will see.

    python tests/cases/regenerate.py                 # every case without a .xfail file
    python tests/cases/regenerate.py band-gap cycle  # only these kinds
    python tests/cases/regenerate.py --include-xfail # also overwrite the xfail cases
    git diff tests/cases/                             # review

A case with a ``<kind>.xfail`` file next to it documents a validator bug: its .expected
holds the text the validator SHOULD print, written by hand, so it is skipped unless named
on the command line or --include-xfail is given.  When the validator is fixed the test
XPASSes (strict) and fails: delete the .xfail file, then review the .expected diff.

Cases run in-process through click's CliRunner, exactly as the tests do.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
INVALID = Path("tests/cases/invalid")


def output_of(case: Path) -> str | None:
    """The validator's stdout, or None (after saying why) when it crashed."""
    from tierbook.cli.main import main

    result = CliRunner().invoke(main, ["validate", case.as_posix()])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        print(f"CRASH {case.stem}: {type(result.exception).__name__}: {result.exception}",
              file=sys.stderr)
        return None
    return result.stdout


def main(argv: list[str]) -> int:
    include_xfail = "--include-xfail" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    os.chdir(REPO)
    cases = sorted(INVALID.glob("*.yaml"))
    if wanted:
        unknown = set(wanted) - {c.stem for c in cases}
        if unknown:
            print(f"no such case: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c.stem in wanted]
    changed = 0
    for case in cases:
        if case.with_suffix(".xfail").exists() and not (include_xfail or case.stem in wanted):
            print(f"skip  {case.stem} (xfail: expected text is hand-written)")
            continue
        expected = case.with_suffix(".expected")
        text = output_of(case)
        if text is None:
            continue
        old = expected.read_text("utf-8") if expected.exists() else None
        if text != old:
            expected.write_text(text, "utf-8")
            changed += 1
            print(f"wrote {expected}")
    print(f"{changed} file(s) changed; review with: git diff {INVALID}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
