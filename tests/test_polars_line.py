"""The benchmarks' polars reference line agrees with tierbook account by account (so it
cannot silently rot), and side_by_side.py runs and writes its figures (never a speed)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from tierbook.cli.main import main

from .conftest import AS_OF, ROOT, SAMPLE

POLARS_LINE = ROOT / "benchmarks" / "polars_line.py"


def tierbook_accounts(portfolio: Path, tmp_path: Path) -> Path:
    """tierbook's accounts.csv of ``portfolio`` (a gate may fail: the file is written)."""
    out = tmp_path / "tierbook-out"
    CliRunner().invoke(main, ["segment", str(portfolio), "--as-of", AS_OF.isoformat(),
                              "--out", str(out), "--store", str(tmp_path / "t.sqlite"),
                              "--no-chart"], catch_exceptions=False)
    return out / "accounts.csv"


def polars_check(portfolio: Path, accounts: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(POLARS_LINE), str(portfolio),
                           str(tmp_path / "polars.csv"), "--as-of", AS_OF.isoformat(),
                           "--check", str(accounts)], capture_output=True, text=True,
                          check=False, timeout=120)


def test_polars_line_agrees_with_tierbook_on_the_sample(tmp_path: Path) -> None:
    accounts = tierbook_accounts(SAMPLE, tmp_path)
    check = polars_check(SAMPLE, accounts, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "all 3,000 accounts agree" in check.stdout
    with open(tmp_path / "polars.csv", newline="") as fh:
        ours = list(csv.DictReader(fh))
    assert len(ours) == 3000 and list(ours[0]) == ["account_id", "tier", "flags"]
    assert {r["tier"] for r in ours} == {"high_touch_enterprise", "mid_touch", "tech_touch",
                                         "plg_self_serve"}

    # the check itself: a changed tier and a dropped flag are each named, a reordered flag
    # list is the same set of flags
    with open(accounts, newline="") as fh:
        rows = list(csv.DictReader(fh))
    changed = next(r for r in rows if r["tier"] == "plg_self_serve")
    changed["tier"] = "tech_touch"
    dropped = next(r for r in rows if ";" in r["flags"])
    dropped["flags"] = dropped["flags"].split(";")[0]
    reordered = next(r for r in rows if ";" in r["flags"] and r is not dropped)
    reordered["flags"] = ";".join(reversed(reordered["flags"].split(";")))
    edited = tmp_path / "edited.csv"
    with open(edited, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    check = polars_check(SAMPLE, edited, tmp_path)
    assert check.returncode == 1
    assert "2 of 3,000 accounts disagree" in check.stderr
    assert changed["account_id"] in check.stderr and dropped["account_id"] in check.stderr
    assert reordered["account_id"] not in check.stderr


def test_polars_line_agrees_on_quartile_bands_and_edge_values(tmp_path: Path) -> None:
    """A flat book (auto picks quartile bands, with accounts on the edges) with blanks and
    values on every flag's threshold: the line still agrees with tierbook."""
    with open(SAMPLE, newline="") as fh:
        rows = list(csv.DictReader(fh))
    rnd = random.Random(3)
    blankable = ("strategic_logo", "expansion_potential", "product_influence",
                 "reference_value", "regulatory_exposure", "public_advocacy_date",
                 "seats_licensed", "seats_used", "expansion_intent", "regulated_framework",
                 "design_partner", "health_score", "churn_signal", "reference_agreement",
                 "m_and_a_in_progress", "sku_count")
    for r in rows:
        r["arr"] = f"{rnd.choice([2000, 3000, 4000, 5000, rnd.uniform(2000, 8000)]):.2f}"
        if rnd.random() < 0.1:
            days = rnd.choice([-1, 0, 1, 364, 365, 366])
            r["public_advocacy_date"] = (AS_OF - dt.timedelta(days=days)).isoformat()
        if rnd.random() < 0.1:
            r["seats_licensed"], r["seats_used"] = rnd.choice(
                [("5", "4"), ("10", "8"), ("10", "9"), ("0", "3"), ("4", "4")])
        if rnd.random() < 0.1:
            r["health_score"] = rnd.choice(["39", "40", "41", "39.5"])
        if rnd.random() < 0.1:
            r["regulated_framework"] = rnd.choice(["none", "None", "NONE", "n/a", "N/A", "PCI"])
        if rnd.random() < 0.1:  # strategic value exactly on a band edge
            value = rnd.choice(["0.30", "0.60"])
            for c in blankable[:5]:
                r[c] = value
        for c in blankable:
            if rnd.random() < 0.05:
                r[c] = ""
    portfolio = tmp_path / "edges.csv"
    with open(portfolio, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    accounts = tierbook_accounts(portfolio, tmp_path)
    report = json.loads((accounts.parent / "report.json").read_text())
    assert report["bands"]["arr_band"]["method"] == "quartile"
    check = polars_check(portfolio, accounts, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr


def test_side_by_side_runs_and_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "side.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "side_by_side.py"),
                    "--accounts", "3000", "--rounds", "1", "--cache", str(tmp_path / "cache"),
                    "--tmp", str(tmp_path), "--json", str(out)],
                   check=True, capture_output=True, text=True, cwd=ROOT, timeout=300)
    doc = json.loads(out.read_text())
    assert doc["accounts"] == 3000 and doc["rounds"] == 1 and doc["seed"] == 7
    for who in ("tierbook", "polars"):
        for key in ("wall_s", "peak_rss_mb", "cpu_s"):
            assert len(doc[who][key]) == 1 and "median_" + key in doc[who]
    assert set(doc["ratio"]) == {"wall_per_round", "median_wall", "peak_rss_per_round",
                                 "median_peak_rss"}
    assert doc["agreement"]["agree"] is True
    for quick in ("tierbook_help", "tierbook_validate"):
        assert len(doc[quick]["wall_s"]) == 10 and "median_wall_s" in doc[quick]
    assert set(doc["store"]) == {"bytes_after_first", "bytes_per_account_first",
                                 "bytes_after_second", "added_bytes_per_account_second",
                                 "second_segment_wall_s"}
    assert doc["store"]["bytes_after_second"] >= doc["store"]["bytes_after_first"] > 0
