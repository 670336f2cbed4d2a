"""report.html: written by segment and replay into --out and by `plan --html`; fetches
nothing; the same run gives the same bytes; its embedded traces are `tierbook explain`'s
text; the sections of the keys other parts of a run add (current book, CSM books,
overrides, ARR bridge) render when present and unknown keys are ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tierbook.cli.main import main
from tierbook.report.html import traces as T
from tierbook.report.html.runs import replay_page
from tierbook.report.html.segment import segment_page
from tierbook.report.segment_json import segment_json

from .conftest import AS_OF, ROOT, SAMPLE

COMMON = ["--as-of", "2026-10-01", "--engine", "native"]
GOLDEN_REPLAY = ROOT / "tests" / "golden" / "replay" / "out" / "replay.json"


def run(*args: str):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def embedded(html: str, element_id: str):
    found = re.search(f'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert found, element_id
    return json.loads(found.group(1))


def external_references(html: str) -> list[str]:
    """Every src=, href= (other than a link inside the page) and url(...) of the page."""
    refs = re.findall(r"""\b(?:src|href|xlink:href|action|data)\s*=\s*["']?([^"'\s>]*)""", html, re.I)
    out = [r for r in refs if not r.startswith("#")]
    out += re.findall(r"url\s*\(", html, re.I)
    out += re.findall(r"@import", html, re.I)
    return out


@pytest.fixture(scope="module")
def segment_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("seg")
    result = CliRunner().invoke(
        main,
        ["segment", "cs-segmentation-model", str(SAMPLE), *COMMON, "--no-chart",
         "--out", str(work / "out"), "--store", str(work / "t.sqlite")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return work


def test_segment_writes_a_self_contained_page(segment_out: Path) -> None:
    html = (segment_out / "out" / "report.html").read_text(encoding="utf-8")
    assert external_references(html) == []
    assert "<script src" not in html and "<link" not in html
    for anchor in ("summary", "gates", "tiers", "capacity", "flags", "hints", "accounts"):
        assert f'<section id="{anchor}">' in html
    assert html.count("<svg ") >= 3  # tiers (accounts, ARR), capacity, flags
    table = embedded(html, "tb-table")
    assert len(table["path_of"]) == 3000
    assert table["columns"][:3] == ["account_id", "account_name", "arr"]
    assert "The table holds all 3,000 accounts, 50 to a page." in html
    assert "@media print" in html


def test_embedded_traces_are_explains_text_for_the_chosen_accounts(segment_out: Path) -> None:
    html = (segment_out / "out" / "report.html").read_text(encoding="utf-8")
    traces = embedded(html, "tb-traces")
    table = embedded(html, "tb-table")
    ids, arrs = table["cols"]["account_id"], table["cols"]["arr"]
    largest = sorted(range(len(ids)), key=lambda i: (-arrs[i], i))[: T.TOP_BY_ARR]
    assert {ids[i] for i in largest} <= set(traces)
    assert T.TOP_BY_ARR < len(traces) <= T.TRACE_CAP
    # past the largest, only accounts with a comment or review hint, or a move against the
    # current book (the sample's CRM tiers are the default ruleset's tier ids)
    comments, reviews = table["decided"]["comments"], table["decided"]["reviews"]
    tiers, current = table["decided"]["tier"], table["cols"]["current_tier"]
    for i, account in enumerate(ids):
        if account in traces and i not in largest:
            p = table["path_of"][i]
            assert comments[p] or reviews[p] or current[i] != tiers[p], account
    assert f"Decision traces are embedded for {len(traces):,} of them" in html
    account = ids[largest[0]]
    shown = run("explain", account, "--store", str(segment_out / "t.sqlite")).stdout
    # (the page names the run "this" where explain gives its number: the same bytes whatever
    # runs the store held before)
    assert traces[account] == shown.rstrip("\n").replace(" · run 1 (segment,", " · run this (segment,")


def test_the_same_run_gives_the_same_bytes(segment_out: Path, tmp_path: Path) -> None:
    # a second run into the same store (run 2) and another folder
    again = run("segment", "cs-segmentation-model", str(SAMPLE), *COMMON, "--no-chart",
                "--out", str(tmp_path / "again"), "--store", str(segment_out / "t.sqlite"))
    assert again.exit_code == 0
    first = (segment_out / "out" / "report.html").read_bytes()
    assert (tmp_path / "again" / "report.html").read_bytes() == first


def test_comments_and_review_hints_name_their_accounts(segment_out: Path) -> None:
    html = (segment_out / "out" / "report.html").read_text(encoding="utf-8")
    hints = html[html.index('<section id="hints">'):html.index('<section id="accounts">')]
    assert "tech_touch_champion_promotion" in hints
    assert hints.count('<button class="acct"') > 20


def test_trace_choice_takes_the_largest_then_those_needing_a_look() -> None:
    arrs = [float(i) for i in range(2000)]  # account i has ARR i: the largest is the last
    order = T.by_arr(arrs)
    assert order[:3] == [1999, 1998, 1997]
    picked = T.chosen(order, lambda i: i % 2 == 0)
    assert picked[: T.TOP_BY_ARR] == order[: T.TOP_BY_ARR]
    assert len(picked) == T.TRACE_CAP
    assert all(i % 2 == 0 for i in picked[T.TOP_BY_ARR:])
    assert T.by_arr([None, 5.0, float("nan"), 7.0]) == [3, 1, 0, 2]


CURRENT_BOOK = {
    "column": "current_tier",
    "labels": {"Enterprise": "high_touch_enterprise", "Scale": "tech_touch"},
    "matrix": [
        {"from": "high_touch_enterprise", "to": "mid_touch", "accounts": 54, "arr": 1234.5},
        {"from": "tech_touch", "to": "plg_self_serve", "accounts": 314, "arr": 99.0},
    ],
    "upgrades": {"accounts": 7, "arr": 70.0},
    "downgrades": {"accounts": 368, "arr": 1333.5},
    "unchanged": {"accounts": 2000, "arr": 1.0},
    "unmapped": [{"label": "Strategic", "accounts": 3, "arr": 0.0}],
    "unknown": {"accounts": 2, "arr": 0.0},
}
CSM_BOOKS = {
    "csms": [
        {"csm": "Jane Doe", "accounts": 40, "arr": 1.0, "tiers": {"mid_touch": 3}, "load": 31.5,
         "capacity": 30.0, "status": "over"},
        {"csm": "Ana Li", "accounts": 4, "arr": 2.0, "tiers": {"tech_touch": 4}, "load": 3.0,
         "capacity": 30.0, "status": "under"},
    ],
    "unassigned": {"accounts": 9, "arr": 12.0},
    "rebalancing": [{"account_id": "ACC-00042", "tier": "mid_touch", "from_csm": "Jane Doe",
                     "to_csm": "Ana Li", "load_moved": 1.5}],
}
OVERRIDES = {"file": "overrides.yaml", "applied": 3, "by_tier": {"mid_touch": 3}, "arr": 55.0,
             "expiring": [{"id": "ov-1", "expires": "2026-10-20"}], "expired": [],
             "redundant": ["ov-2"], "stale": []}


def test_the_sections_of_keys_other_parts_add(tmp_path: Path) -> None:
    from tierbook.commands import api

    result = api.segment("cs-segmentation-model", str(SAMPLE), as_of=AS_OF, engine="native",
                         store_path=str(tmp_path / "t.sqlite"))
    doc = segment_json(result, accounts=False)
    for key in ("current_book", "csm_books"):  # (the sample has them: these test made-up ones)
        doc.pop(key, None)
    plain = segment_page(result, doc)
    for anchor in ("current-book", "csm-books", "overrides"):
        assert f'id="{anchor}"' not in plain
    html = segment_page(result, doc | {"current_book": CURRENT_BOOK, "csm_books": CSM_BOOKS,
                                       "overrides": OVERRIDES, "a_key_from_later": {"x": 1}})
    assert external_references(html) == []
    book = html[html.index('<section id="current-book">'):html.index('<section id="csm-books">')]
    assert ">314<" in book and ">54<" in book and "Strategic" in book
    assert "368 · $1,334" in book  # downgrades: accounts · ARR
    assert "<b>375 · $1,404</b><span>change tier</span>" in book  # upgrades + downgrades
    csms = html[html.index('<section id="csm-books">'):html.index('<section id="overrides">')]
    assert "Jane Doe" in csms and "over-loaded: Jane Doe" in csms and "ACC-00042" in csms
    over = html[html.index('<section id="overrides">'):html.index('<section id="flags">')]
    assert "ov-1" in over and "ov-2" in over and "overrides.yaml" in over
    assert "a_key_from_later" not in html


def test_replay_page_from_its_document_with_an_arr_bridge() -> None:
    doc = json.loads(GOLDEN_REPLAY.read_text(encoding="utf-8"))
    assert doc.pop("arr_bridge")  # (the golden replay has one: this tests a made-up one)
    html = replay_page(doc)
    assert external_references(html) == []
    for anchor in ("movement", "triggers", "accounts"):
        assert f'<section id="{anchor}">' in html
    assert "arr-bridge" not in html
    assert html.count("<circle") == sum(len(q["triggers"]) for q in doc["quarters"])
    bridge = [{"quarter": "2027Q1", "tier": t, "starting": 10.0, "new": 1.0, "expansion": 2.0,
               "contraction": 0.5, "churned": 1.0, "reactivated": 0.0, "ending": 11.5,
               "nrr": 1.05, "grr": 0.95, "churn_target": None} for t in ("all", "mid_touch")]
    html = replay_page(doc | {"arr_bridge": bridge})
    section = html[html.index('<section id="arr-bridge">'):]
    assert "contraction" in section and "1.05" in section


def test_replay_writes_report_html(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("replay", "cs-segmentation-model", str(SAMPLE),
                 str(ROOT / "examples" / "events.csv"), *COMMON, "--no-chart", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    doc = json.loads((out / "replay.json").read_text(encoding="utf-8"))
    assert html == replay_page(doc)
    rows = embedded(html, "tb-table")
    assert len(rows["cols"]["account_id"]) == sum(
        len(q["moves"]) + len(q["held"]) + len(q["reviews"]) for q in doc["quarters"]
    )


def test_plan_html(tmp_path: Path) -> None:
    head = ROOT / "tests" / "golden" / "plan" / "head.yaml"
    page = tmp_path / "plan" / "report.html"
    result = run("plan", "--base", "cs-segmentation-model", "--head", str(head), str(SAMPLE),
                 *COMMON, "--format", "json", "--html", str(page))
    doc = json.loads(result.stdout)
    html = page.read_text(encoding="utf-8")
    assert external_references(html) == []
    for anchor in ("matrix", "diff", "capacity", "accounts"):
        assert f'<section id="{anchor}">' in html
    assert "metadata.version" in html  # the semantic diff
    traces = embedded(html, "tb-traces")
    largest = max(doc["moves"], key=lambda m: m["arr"])
    text = traces[largest["account_id"]]
    assert f"{largest['account_id']}: {largest['before']}" in text.split("under the head:")[0]
    assert f"{largest['account_id']}: {largest['after']}" in text.split("under the head:")[1]
    assert len(traces) == min(len(doc["moves"]), T.TRACE_CAP)


def test_plan_html_naming_a_folder_is_an_error(tmp_path: Path) -> None:
    head = ROOT / "tests" / "golden" / "plan" / "head.yaml"
    result = run("plan", "--base", "cs-segmentation-model", "--head", str(head), str(SAMPLE),
                 *COMMON, "--html", str(tmp_path))
    assert result.exit_code == 2  # (a usage error: click's check of the option)
    assert "is a directory" in result.output


def test_coverage_alignment_has_its_section_and_its_accounts_traces(tmp_path: Path) -> None:
    from tierbook.commands import api

    result = api.segment("priority-model", str(SAMPLE), as_of=AS_OF, engine="native",
                         store_path=str(tmp_path / "t.sqlite"))
    doc = segment_json(result, accounts=False)
    html = segment_page(result, doc)
    section = html[html.index('<section id="alignment">'):html.index('<section id="flags">')]
    al = doc["alignment"]
    assert f"<b>{al['misaligned']:,}</b><span>misaligned accounts</span>" in section
    assert al["top_changes"][0]["account_id"] in section
    traces = embedded(html, "tb-traces")
    moved = {m["account_id"] for k in ("upgrades", "downgrades") for m in al[k]}
    assert len(traces) == T.TRACE_CAP  # the 100 largest, then misaligned ones up to the cap
    table = embedded(html, "tb-table")
    ids, arrs = table["cols"]["account_id"], table["cols"]["arr"]
    largest = {ids[i] for i in T.by_arr(arrs)[: T.TOP_BY_ARR]}
    assert set(traces) - largest <= moved


def test_capacity_says_spare_and_short_in_words(segment_out: Path) -> None:
    """As the summary does: the gap without the sign convention (the sample has 2 spare
    overall and plg_self_serve 1 short)."""
    html = (segment_out / "out" / "report.html").read_text(encoding="utf-8")
    assert "CSMs needed = 24, CSMs available = 26, gap = 2 spare" in html
    assert "gap = -2" not in html
    assert "<td>1 short</td>" in html or ">1 short<" in html


def test_the_account_table_has_the_crms_csm_and_current_tier(segment_out: Path) -> None:
    """The columns accounts.csv ends with are in the table, searchable and filterable."""
    html = (segment_out / "out" / "report.html").read_text(encoding="utf-8")
    table = embedded(html, "tb-table")
    assert table["columns"][-2:] == ["csm", "current_tier"]
    assert len(table["cols"]["csm"]) == len(table["cols"]["current_tier"]) == 3000
    assert "csm" in table["search"]
    assert '<select data-filter="csm">' in html and '<option value="Ravi Iyer">' in html


def test_the_order_by_arr_of_a_column_is_the_order_of_its_values() -> None:
    import polars as pl
    values = [None, 5.0, float("nan"), 7.0, 0.0, -0.0, 5.0, -2.5, float("inf"), 0.0, None, 7.0]
    assert T.by_arr(pl.Series(values)) == T.by_arr(values) == [8, 3, 11, 1, 6, 4, 5, 9, 7, 0,
                                                               2, 10]
    assert T.by_arr(pl.Series([3, None, 3, 9])) == T.by_arr([3, None, 3, 9]) == [3, 0, 2, 1]


def test_the_table_data_in_pieces_is_the_data_whole() -> None:
    """report.html's data is written a piece at a time (columns in runs of values): the same
    text as the whole JSON escaped at once, whatever the cut, `</` and `<!--` included."""
    import polars as pl

    from tierbook.report.html.page import Texts, script_json_pieces

    texts = ['"</script>"', "1", '"<!--x"', "null", '"a<"', '"/b"', "[1, 2]", '"<"']
    data = {"columns": ["a"], "cols": {"a": Texts(pl.Series(texts)), "b": ["</", 2]},
            "path_of": Texts(pl.Series([], dtype=pl.String)), "n": 3}
    whole = ('{"columns":["a"],"cols":{"a":[' + ",".join(texts) + '],"b":["</",2]},'
             '"path_of":[],"n":3}')
    want = ('<script type="application/json" id="x">'
            + whole.replace("</", "<\\/").replace("<!--", "<\\!--") + "</script>")
    assert "".join(script_json_pieces("x", data)) == want
    json.loads(whole)
    for size in (1, 2, 3, 50_000):
        assert "".join(Texts(pl.Series(texts)).pieces(size)) == "[" + ",".join(texts) + "]"
