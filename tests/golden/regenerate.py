"""Regenerate every golden file: what tierbook shows and stores for the sample portfolio.

    python tests/golden/regenerate.py

Then READ the diff (git diff tests/golden) before committing: a golden diff is a change in
what CS leaders see (or in what the trace store keeps), and must be one you meant.  The
current code's output is the truth the goldens pin; tests/test_golden*.py compare each file.

What runs, in this order, in a fresh temporary folder holding examples/portfolio.csv,
examples/events.csv and plan/head.yaml (so every path tierbook prints is relative), as of
2026-10-01, engine native, one trace store `traces.sqlite` ($TIERBOOK_STORE):

1. `segment RULESET examples/portfolio.csv --no-chart --out out` for each shipped ruleset
   (runs 1-4), each followed by `segment ... --format json` into `--store side.sqlite`;
   after the default ruleset's, `explain` of the EXPLAIN accounts (no --run: the latest
   run), after each other ruleset's, `explain --run N` of its accounts: every --level in
   text, --format json at the default level (and at every level for JSON_LEVELS_FOR).
   -> RULESET/*, RULESET/explain/*
2. `plan --base cs-segmentation-model --head plan/head.yaml examples/portfolio.csv`
   (runs 5 and 6), then `--format markdown --detailed-exitcode` and `--format json` into
   side.sqlite.  plan/head.yaml is a fixed, hand-edited copy of the default ruleset (an
   input kept in git, not regenerated).  -> plan/*
3. `replay cs-segmentation-model examples/portfolio.csv examples/events.csv --out out`
   with its charts (runs 7-14), then `--format json --no-chart --out out-json` into
   side.sqlite; `history` (text and JSON) of the HISTORY accounts.  -> replay/*
4. A text dump of traces.sqlite (runs 1-14; side.sqlite holds only repeats in another
   format and is not dumped).  -> store/*; and the files left in the folder -> workdir.txt

Every command's exit code and stderr go into the goldens (exit.txt, or the transcript of
explain / history), so a failing command shows rather than hides.

Masks (everything else is recorded as tierbook wrote it):
- MASK_TMP: the temporary folder's absolute path, wherever it appears, becomes `<tmp>`, and
  the repository's becomes `<repo>` (machine-dependent; none appears today).
- MASK_CLOCK: runs.started_at / finished_at in the store dump become `<clock>` (wall-clock
  times; TIERBOOK_FIXED_TIME pins them as well, but the dump does not rely on it).
- MASK_PNG: a PNG chart is recorded as its pixel size only: its bytes depend on the
  matplotlib, Pillow and FreeType versions that drew it, not on tierbook.
- MASK_PID: in workdir.txt (what the commands left in the working folder), the pid in a
  temporary folder's name (`.out.tierbook-tmp-<pid>`, `.out.tierbook-old-<pid>`); none is
  left today, and no pid appears in any other output.
- MASK_ENV: every TIERBOOK_* variable of the caller is cleared (a store path, compact
  columns, in-line store writing...), so the caller's environment cannot change a golden.
Size limits (not masks: what is left out is still covered by a sha256 in the golden):
- segment.json lists its first ACCOUNTS_IN_FULL accounts; the rest are a count and the
  sha256 of their JSON text; a top-level value over 4 KB that is byte-identical to the
  same value in report.json (priority-model's alignment) is a marker saying so.
- A store dump gives each table's row count and the sha256 of all its rows (rendered as in
  the dump, sorted by key), the first ROWS_IN_FULL rows in full (REPLAY_ROWS_IN_FULL for
  the eight quarters of the replay), every movement that is not `stay`, and firings
  counted per rule; bands or a table whose rows are the same as an earlier run's say
  which run.
- replay's --format json stdout, when byte-identical to out/replay.json, is recorded as
  that fact in replay/exit.txt instead of a second copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

AS_OF = "2026-10-01"
COMMON = ["--as-of", AS_OF, "--engine", "native"]
RULESETS = ("cs-segmentation-model", "customer-success", "keep-segment", "priority-model")
DEFAULT = RULESETS[0]
SEGMENT_FILES = (
    "model.md", "accounts.csv", "accounts.jsonl", "report.json", "report.html", "changes.csv"
)
PLAN_HEAD = "plan/head.yaml"  # input, under tests/golden; copied to the same relative path
INPUTS = ("regenerate.py", PLAN_HEAD)  # files under tests/golden that are not outputs
SIDE_STORE = "side.sqlite"
EXPLAIN_LEVELS = ([], ["--level", "fired"], ["--level", "why-not"], ["--format", "json"])
# --format json at the other levels is the full JSON less one key: pinned for a few accounts
JSON_LEVELS = (["--format", "json", "--level", "fired"], ["--format", "json", "--level", "why-not"])
JSON_LEVELS_FOR = ("ACC-00046", "ACC-01141", "ACC-02728", "ACC-0046")
ACCOUNTS_IN_FULL = 20
ROWS_IN_FULL = 50
REPLAY_ROWS_IN_FULL = 20

# Accounts whose explanation is pinned, chosen from the sample portfolio's data (run 1 for
# the default ruleset), each with why.
EXPLAIN: dict[str, list[tuple[str, str]]] = {
    "cs-segmentation-model": [
        ("ACC-00046", "README's example: tech_touch, no flags, value 0.295 just under Medium"),
        ("ACC-01141", "high_touch_enterprise, six flags (the most), at_risk_but_expansion_ready"),
        ("ACC-00030", "high_touch_enterprise from the Mid ARR row (mid.high), at_risk_retention"),
        ("ACC-01435", "high_touch_enterprise; health_score and regulated_framework blank"),
        ("ACC-02486", "largest ARR of the portfolio ($2.97M), mid_touch from High x Medium"),
        ("ACC-00474", "value exactly 0.3 (Medium's closed lower bound), contradiction comment"),
        ("ACC-01424", "value exactly 0.6 (Medium's closed upper bound); moves up in the plan"),
        ("ACC-00512", "ARR exactly 10,000.00 (Mid row's closed lower bound); moves in the plan"),
        ("ACC-02069", "ARR exactly 1,000.00 (arr_1k_10k's closed lower bound), plg_self_serve"),
        ("ACC-00144", "tech_touch with the tech_touch_champion_promotion review hint"),
        ("ACC-00042", "plg_self_serve + design_partner (compatible pairing), at_risk_retention"),
        ("ACC-00089", "plg_self_serve with the at_risk_but_expansion_ready comment"),
        ("ACC-02728", "health_score blank; at_risk_retention from churn_signal alone"),
    ],
    "customer-success": [
        ("ACC-00116", "smb, red health and the save action, four flags (the most)"),
        ("ACC-00067", "enterprise with the green_with_early_warning review hint"),
        ("ACC-01157", "mid_market with health_drop and usage_decline"),
    ],
    "keep-segment": [
        ("ACC-00021", "long_tail with the long_tail_high_arr_promotion review hint"),
        ("ACC-00091", "strategic tier with at_risk health"),
        ("ACC-00004", "growth tier, at_risk health, no flags"),
    ],
    "priority-model": [
        ("ACC-00008", "tier_1 with both flags (renewal_due, expansion_opportunity)"),
        ("ACC-00046", "tier_2 with expansion_opportunity (the default ruleset's README account)"),
        ("ACC-00002", "digital, no flags"),
    ],
}
UNKNOWN_ACCOUNT = "ACC-0046"  # a mistyped id: explain and history fail with a did-you-mean

# Accounts whose replay history is pinned, chosen from the replay's movements.
HISTORY: list[tuple[str, str]] = [
    ("ACC-00125", "the README's example: promoted in 2026Q4, demoted in 2028Q3"),
    ("ACC-00619", "demoted, then the only account a minimum dwell held, then promoted back"),
    ("ACC-02616", "promoted in 2026Q4 and demoted again in 2027Q2"),
    ("ACC-00010", "churned in 2027Q3"),
    ("ACC-03029", "joined in 2027Q1 (new_account) and churned in 2028Q1"),
]


@dataclass
class Ran:
    args: list[str]
    code: int
    stdout: str
    stderr: str

    def command(self) -> str:
        return "$ tierbook " + " ".join(self.args)

    def exit_lines(self) -> list[str]:
        """The command, its exit code and its stderr (indented), as exit.txt records them."""
        out = [self.command(), f"  exit {self.code}"]
        out += [f"  stderr: {line}" for line in self.stderr.splitlines()]
        return out


def _invoke(args: list[str]) -> Ran:
    from click.testing import CliRunner
    from tierbook.cli.main import main

    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()  # click 8.2+ keeps stderr apart by itself
    result = runner.invoke(main, args, catch_exceptions=False)
    return Ran(args, result.exit_code, result.stdout, result.stderr)


def _transcript(runs: Iterable[Ran]) -> str:
    """Several commands' output in one file: each command line, its stdout as printed, its
    exit code and its stderr, a blank line between commands."""
    blocks = []
    for r in runs:
        block = r.command() + "\n"
        if r.stdout:
            block += r.stdout if r.stdout.endswith("\n") else (
                r.stdout + "\n[no newline at the end of stdout]\n")
        block += f"[exit {r.code}]\n"
        block += "".join(f"[stderr] {line}\n" for line in r.stderr.splitlines())
        blocks.append(block)
    return "\n".join(blocks)


def _read(path: Path) -> str:
    """A file's text exactly as written (no newline translation)."""
    return path.read_bytes().decode("utf-8")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _png_size(path: Path) -> str:
    """MASK_PNG: a chart as its pixel size (the IHDR chunk), not its bytes."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return "not a PNG file"
    width, height = struct.unpack(">II", data[16:24])
    return f"PNG image, {width} x {height} px (bytes not compared: MASK_PNG)"


def _written(folder: Path) -> list[str]:
    """Every file a command wrote into folder: its name, and a PNG's pixel size."""
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            rel = p.relative_to(folder).as_posix()
            out.append(f"  wrote {rel}" + (f": {_png_size(p)}" if p.suffix == ".png" else ""))
    return out or ["  wrote nothing"]


def _condensed_json(stdout: str, report: str | None) -> str:
    """segment's --format json, with its accounts after the first ACCOUNTS_IN_FULL given as
    a count and the sha256 of their text, and a top-level value over 4 KB that is the same
    text as in report.json a marker saying so.  Anything that is not indent-2 JSON (which
    would not read back to the same text) is kept whole."""
    try:
        doc = json.loads(stdout)
    except ValueError:
        return stdout
    if not isinstance(doc, dict) or json.dumps(doc, indent=2) + "\n" != stdout:
        return stdout
    same: dict[str, Any] = {}
    if report is not None:
        try:
            same = json.loads(report)
        except ValueError:
            same = {}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        text = json.dumps(value, indent=2)
        if (key != "accounts" and len(text) > 4096 and key in same
                and json.dumps(same[key], indent=2) == text):
            out[key] = f"<elided: byte-identical to {key!r} in report.json, sha256 {_sha(text)}>"
        elif key == "accounts" and isinstance(value, list) and len(value) > ACCOUNTS_IN_FULL:
            rest = value[ACCOUNTS_IN_FULL:]
            digest = _sha(json.dumps(rest, indent=2))
            marker = f"<elided: {len(rest)} more accounts, sha256 {digest} of their indent-2 JSON>"
            out[key] = value[:ACCOUNTS_IN_FULL] + [marker]
        else:
            out[key] = value
    return json.dumps(out, indent=2) + "\n"


def _segments(files: dict[str, str], work: Path) -> None:
    for number, ruleset in enumerate(RULESETS, start=1):
        base = ["segment", ruleset, "examples/portfolio.csv", *COMMON, "--no-chart"]
        text = _invoke(base + ["--out", "out"])
        out = work / "out"
        for name in SEGMENT_FILES:
            if (out / name).exists():
                files[f"{ruleset}/{name}"] = _read(out / name)
        files[f"{ruleset}/summary.txt"] = text.stdout
        lines = text.exit_lines() + _written(out)
        shutil.rmtree(out, ignore_errors=True)
        as_json = _invoke(base + ["--out", "out", "--format", "json", "--store", SIDE_STORE])
        files[f"{ruleset}/segment.json"] = _condensed_json(as_json.stdout,
                                                           files.get(f"{ruleset}/report.json"))
        lines += as_json.exit_lines()
        differs = [name for name in SEGMENT_FILES if (out / name).exists() and
                   _read(out / name) != files.get(f"{ruleset}/{name}")]
        lines += _written(out)
        lines.append("  its files are byte-identical to the text run's" if not differs else
                     f"  its files differ from the text run's: {', '.join(differs)}")
        shutil.rmtree(out, ignore_errors=True)
        files[f"{ruleset}/exit.txt"] = "\n".join(lines) + "\n"
        run = [] if ruleset == DEFAULT else ["--run", str(number)]
        accounts = [a for a, _ in EXPLAIN[ruleset]]
        if ruleset == DEFAULT:
            accounts.append(UNKNOWN_ACCOUNT)
        for account in accounts:
            levels = EXPLAIN_LEVELS + (JSON_LEVELS if account in JSON_LEVELS_FOR else ())
            runs = [_invoke(["explain", account, *run, *level]) for level in levels]
            name = "unknown-account" if account == UNKNOWN_ACCOUNT else account
            files[f"{ruleset}/explain/{name}.txt"] = _transcript(runs)


def _plan(files: dict[str, str], work: Path) -> None:
    (work / PLAN_HEAD).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / PLAN_HEAD, work / PLAN_HEAD)
    base = ["plan", "--base", DEFAULT, "--head", PLAN_HEAD, "examples/portfolio.csv", *COMMON]
    runs = [_invoke(base),
            _invoke(base + ["--format", "markdown", "--detailed-exitcode", "--store", SIDE_STORE]),
            _invoke(base + ["--format", "json", "--store", SIDE_STORE])]
    for r, name in zip(runs, ("plan.txt", "plan.md", "plan.json")):
        files[f"plan/{name}"] = r.stdout
    files["plan/exit.txt"] = "\n".join(line for r in runs for line in r.exit_lines()) + "\n"


def _replay(files: dict[str, str], work: Path) -> None:
    base = ["replay", DEFAULT, "examples/portfolio.csv", "examples/events.csv", *COMMON]
    text = _invoke(base + ["--out", "out"])
    out = work / "out"
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.suffix != ".png":
            files[f"replay/out/{p.relative_to(out).as_posix()}"] = _read(p)
    files["replay/stdout.txt"] = text.stdout
    lines = text.exit_lines() + _written(out)
    as_json = _invoke(base + ["--out", "out-json", "--no-chart", "--format", "json",
                              "--store", SIDE_STORE])
    lines += as_json.exit_lines() + _written(work / "out-json")
    if as_json.stdout == files.get("replay/out/replay.json"):
        lines.append("  its stdout is byte-identical to out/replay.json")
    else:
        files["replay/stdout.json"] = as_json.stdout
    differs = [p.name for p in sorted((work / "out-json").glob("*"))
               if files.get(f"replay/out/{p.name}") != _read(p)]
    lines.append("  its files are byte-identical to the text run's" if not differs else
                 f"  its files differ from the text run's: {', '.join(differs)}")
    files["replay/exit.txt"] = "\n".join(lines) + "\n"
    for account, _ in HISTORY + [(UNKNOWN_ACCOUNT, "")]:
        runs = [_invoke(["history", account]), _invoke(["history", account, "--format", "json"])]
        name = "unknown-account" if account == UNKNOWN_ACCOUNT else account
        files[f"replay/history/{name}.txt"] = _transcript(runs)


# -- the trace store -------------------------------------------------------------------------

RUN_COLUMNS = ("run_id", "command", "started_at", "finished_at", "status", "ruleset_name",
               "ruleset_version", "ruleset_sha256", "input_file", "input_sha256", "engine",
               "as_of", "label", "account_count", "bands")
CLOCK = ("started_at", "finished_at")  # MASK_CLOCK
JSON_COLUMNS = {"flags", "bands", "decisions", "comments", "reviews", "derived", "scores",
                "inputs"}


def _row(columns: Iterable[str], values: Iterable[Any]) -> str:
    """One stored row as a JSON object on one line; a column holding JSON text is embedded
    as that text, byte for byte."""
    parts = []
    for column, value in zip(columns, values):
        shown = value if column in JSON_COLUMNS and isinstance(value, str) else json.dumps(value)
        parts.append(f"{json.dumps(column)}:{shown}")
    return "{" + ",".join(parts) + "}"


def _table(db: sqlite3.Connection, title: str, sql: str, args: tuple[Any, ...], full: int,
           seen: dict[tuple[str, str], int], run_id: int) -> list[str]:
    cur = db.execute(sql, args)
    columns = [d[0] for d in cur.description]
    rows = [_row(columns, r) for r in cur.fetchall()]
    digest = _sha("\n".join(rows))
    out = [f"{title}: {len(rows)} rows, sha256 {digest}"]
    earlier = seen.setdefault((title, digest), run_id)
    if rows and earlier != run_id:
        out.append(f"  the same rows as run {earlier}")
        return out
    out += [f"  {r}" for r in rows[:full]]
    if len(rows) > full:
        out.append(f"  ... {len(rows) - full} more rows (in the sha256)")
    return out


def _dump_run(db: sqlite3.Connection, run: sqlite3.Row,
              seen: dict[tuple[str, str], int]) -> str:
    run_id = run["run_id"]
    full = REPLAY_ROWS_IN_FULL if run["command"] == "replay" else ROWS_IN_FULL
    out = [f"run {run_id}"]
    for column in RUN_COLUMNS[1:-1]:
        value = "<clock>" if column in CLOCK and run[column] is not None else run[column]
        out.append(f"  {column}: {json.dumps(value)}")
    earlier = seen.setdefault(("bands", _sha(run["bands"])), run_id)
    if earlier != run_id:
        out.append(f"  bands: the same as run {earlier}'s")
    else:
        out.append("  bands (the stored JSON, indented):")
        bands = json.dumps(json.loads(run["bands"]), indent=2, sort_keys=True)
        out += [f"    {line}" for line in bands.splitlines()]
    out.append("")
    out += _table(db, "paths", "SELECT path_id, accounts, tier, cell, flags, bands, decisions, "
                  "comments, reviews, motion FROM paths WHERE run_id=? ORDER BY path_id",
                  (run_id,), full, seen, run_id)
    out.append("")
    out.append("firings per rule (rule_id, kind: paths, accounts on them):")
    for rule_id, kind, paths, accounts in db.execute(
            "SELECT f.rule_id, f.kind, count(*), sum(p.accounts) FROM firings f JOIN paths p "
            "ON p.run_id = f.run_id AND p.path_id = f.path_id WHERE f.run_id=? "
            "GROUP BY f.rule_id, f.kind ORDER BY f.rule_id, f.kind", (run_id,)):
        out.append(f"  {rule_id}, {kind}: {paths}, {accounts}")
    out.append("")
    out += _table(db, "firings", "SELECT path_id, seq, rule_id, kind, because, derived FROM "
                  "firings WHERE run_id=? ORDER BY path_id, seq", (run_id,), full, seen, run_id)
    out.append("")
    out += _table(db, "accounts", "SELECT account_id, path_id, scores, inputs FROM accounts "
                  "WHERE run_id=? ORDER BY account_id", (run_id,), full, seen, run_id)
    moves = db.execute("SELECT m.replay_id, m.quarter, m.account_id, from_tier, to_tier, "
                       "evaluated_tier, outcome, rule_id, because, d.arr, d.events "
                       "FROM movements m LEFT JOIN movement_details d ON "
                       "d.replay_id = m.replay_id AND d.quarter = m.quarter AND "
                       "d.account_id = m.account_id WHERE run_id=? "
                       "ORDER BY m.account_id", (run_id,))
    columns = [d[0] for d in moves.description]
    rows = [(r[6], _row(columns, r)) for r in moves.fetchall()]
    if rows:
        counts: dict[str, int] = {}
        for outcome, _ in rows:
            counts[outcome] = counts.get(outcome, 0) + 1
        out.append("")
        out.append(f"movements: {len(rows)} rows, sha256 {_sha(chr(10).join(r for _, r in rows))}"
                   f"; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        out.append("  every row whose outcome is not stay:")
        out += [f"  {r}" for outcome, r in rows if outcome != "stay"]
    return "\n".join(out) + "\n"


def dump_store(path: Path) -> dict[str, str]:
    """The trace store as text: an overview (store.txt) and one file per run."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        files: dict[str, str] = {}
        out = ["meta:"]
        out += [f"  {r['key']}: {r['value']}" for r in db.execute(
            "SELECT key, value FROM meta ORDER BY key")]
        out.append("rulesets (the YAML as run, by its sha256 and size):")
        for r in db.execute("SELECT sha256, name, version, text FROM rulesets ORDER BY name, "
                            "version, sha256"):
            out.append(f"  {r['name']} {r['version']} {r['sha256']}: text sha256 "
                       f"{_sha(r['text'])}, {len(r['text'].encode('utf-8'))} bytes")
        out.append("runs (run_id, command, status, ruleset, label, accounts):")
        runs = list(db.execute("SELECT * FROM runs ORDER BY run_id"))
        for r in runs:
            out.append(f"  {r['run_id']}, {r['command']}, {r['status']}, {r['ruleset_name']} "
                       f"{r['ruleset_version']}, {json.dumps(r['label'])}, {r['account_count']}")
        out.append("rows per table and run (paths, firings, accounts, movements):")
        for r in runs:
            counts = [db.execute(f"SELECT count(*) FROM {t} WHERE run_id=?",
                                 (r["run_id"],)).fetchone()[0]
                      for t in ("paths", "firings", "accounts", "movements")]
            out.append(f"  run {r['run_id']}: " + ", ".join(map(str, counts)))
        out.append("replays (replay_id: quarters):")
        quarters: dict[int, list[str]] = {}
        for replay_id, quarter in db.execute("SELECT DISTINCT replay_id, quarter FROM movements "
                                             "ORDER BY replay_id, quarter"):
            quarters.setdefault(replay_id, []).append(quarter)
        out += [f"  {replay_id}: {', '.join(q)}" for replay_id, q in quarters.items()]
        files["store/store.txt"] = "\n".join(out) + "\n"
        seen: dict[tuple[str, str], int] = {}
        for r in runs:
            files[f"store/run-{r['run_id']:02d}.txt"] = _dump_run(db, r, seen)
        return files
    finally:
        db.close()


# -- all of it -------------------------------------------------------------------------------

def produce(workdir: Path) -> dict[str, str]:
    """Every golden file's text, by its path under tests/golden, from the commands run in
    workdir (an empty folder: the sample data is copied in)."""
    (workdir / "examples").mkdir(parents=True, exist_ok=True)
    for name in ("portfolio.csv", "events.csv"):
        shutil.copy(ROOT / "examples" / name, workdir / "examples" / name)
    saved_env = {k: v for k, v in os.environ.items() if k.startswith("TIERBOOK_")}
    old = Path.cwd()
    for k in saved_env:  # MASK_ENV
        del os.environ[k]
    os.environ["TIERBOOK_STORE"] = "traces.sqlite"
    os.environ["TIERBOOK_FIXED_TIME"] = "2026-10-01T00:00:00+00:00"
    os.chdir(workdir)  # so tierbook names examples/portfolio.csv and out/, as a user sees them
    try:
        files: dict[str, str] = {}
        _segments(files, workdir)
        _plan(files, workdir)
        _replay(files, workdir)
        files.update(dump_store(workdir / "traces.sqlite"))
        files["workdir.txt"] = _left_over(workdir)
    finally:
        os.chdir(old)
        for k in [k for k in os.environ if k.startswith("TIERBOOK_")]:
            del os.environ[k]
        os.environ.update(saved_env)
    return {name: _mask(text, workdir) for name, text in sorted(files.items())}


def _left_over(workdir: Path) -> str:
    """What the commands left in the working folder (beyond the inputs copied in): a
    stray temporary or half-swapped folder shows here, its pid or random part masked."""
    names = []
    for p in sorted(workdir.rglob("*")):
        rel = p.relative_to(workdir).as_posix()
        if p.is_file() and rel not in ("examples/portfolio.csv", "examples/events.csv",
                                       PLAN_HEAD):
            names.append(re.sub(r"\.tierbook-(tmp|old)-\d+", r".tierbook-\1-<pid>",  # MASK_PID
                                rel))
    return "".join(f"{name}\n" for name in names)


def _mask(text: str, workdir: Path) -> str:
    """MASK_TMP: absolute paths of this machine's folders."""
    for folder, mark in ((workdir, "<tmp>"), (ROOT, "<repo>")):
        for spelling in {str(folder), str(folder.resolve())}:
            text = text.replace(spelling, mark)
    return text


def golden_files() -> list[str]:
    """The golden files in tests/golden (every file but the inputs), as paths under it."""
    return sorted(p.relative_to(HERE).as_posix() for p in HERE.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts
                  and p.relative_to(HERE).as_posix() not in INPUTS)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = produce(Path(tmp))
    for name in golden_files():
        if name not in files:
            (HERE / name).unlink()
            print(f"removed {name}")
    for name, text in files.items():
        target = HERE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or _read(target) != text:
            target.write_bytes(text.encode("utf-8"))
            print(f"wrote {name}")
    total = sum((HERE / name).stat().st_size for name in files)
    print(f"{len(files)} golden files, {total:,} bytes; now read `git diff tests/golden`")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
