"""The default ruleset's segmentation written directly in polars: a reference line.

    python benchmarks/polars_line.py PORTFOLIO.csv OUT.csv --as-of 2026-10-01
    python benchmarks/polars_line.py PORTFOLIO.csv OUT.csv --as-of 2026-10-01 \\
        --check TIERBOOK_OUT/accounts.csv

What rulesets/cs-segmentation-model.yaml (version 1.0.0) decides for each account, as
plain polars expressions and nothing of tierbook's: the ARR band (log or quartile, chosen
from the portfolio), the strategic-value score and its band, the tier of the 3x3 grid and
the eight override flags.  It writes account_id,tier,flags (flags joined by ';' in the
ruleset's flag order).  It is a yardstick for `benchmarks/side_by_side.py`, not a second
implementation of tierbook: it knows one ruleset, hard-coded, and expects a clean portfolio
with the canonical column names, as examples/generate.py writes it (money as 79036.70,
ISO dates, booleans true/false, blank = unknown).  No reports, trace, gates or calibration.

--check compares the line's tiers and flags with tierbook's accounts.csv of the same
portfolio (`tierbook segment PORTFOLIO --as-of DATE --out DIR`), account by account, and
exits 1 naming the first disagreements.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys

import polars as pl

# --- rulesets/cs-segmentation-model.yaml, version 1.0.0, as the ruleset states it ---------

# scores.strategic_value: weighted, each factor a 0-1 ratio (default 0 when blank)
WEIGHTS = {"strategic_logo": 0.25, "expansion_potential": 0.25, "product_influence": 0.20,
           "reference_value": 0.15, "regulatory_exposure": 0.15}
# bands.arr_band: method auto
TOP_FRACTION, LOG_WHEN_TOP_SHARE_OVER, QUARTILE_WHEN_MAX_SHARE_AT_MOST = 0.10, 0.50, 0.05
# grid.tier_grid: ARR row -> strategic-value band (low, medium, high) -> tier
GRID = {
    "high": ("mid_touch", "mid_touch", "high_touch_enterprise"),
    "mid": ("tech_touch", "mid_touch", "high_touch_enterprise"),
    "low": ("plg_self_serve", "tech_touch", "mid_touch"),
}
SV_BANDS = ("low", "medium", "high")
# flags.regulated_industry: regulated_framework not_in these
NOT_REGULATED = ["none", "None", "NONE", "n/a", "N/A", "-", ""]

COLUMNS = ["account_id", "arr", *WEIGHTS, "public_advocacy_date", "seats_licensed",
           "seats_used", "expansion_intent", "regulated_framework", "design_partner",
           "health_score", "churn_signal", "reference_agreement", "m_and_a_in_progress",
           "sku_count"]


def segment(portfolio: str, as_of: dt.date) -> pl.DataFrame:
    """account_id, tier, flags of every account of ``portfolio`` on ``as_of``."""
    # the needed columns as text (blank cells are null: unknown), cast as they are read
    # (lazily: the whole text columns are not held beside the typed ones)
    raw = pl.scan_csv(portfolio, infer_schema=False).select(COLUMNS)

    def number(c: str) -> pl.Expr:
        return pl.col(c).cast(pl.Float64)

    def integer(c: str) -> pl.Expr:
        return pl.col(c).cast(pl.Int64)

    def boolean(c: str) -> pl.Expr:
        return pl.col(c) == "true"  # null stays null (unknown)

    df = raw.select(
        "account_id", "regulated_framework",
        number("arr"),
        *(number(c).fill_null(0.0) for c in WEIGHTS),
        pl.col("public_advocacy_date").str.to_date("%Y-%m-%d"),
        integer("seats_licensed"), integer("seats_used"), integer("sku_count"),
        number("health_score"),
        *(boolean(c) for c in ("expansion_intent", "design_partner", "churn_signal",
                               "reference_agreement", "m_and_a_in_progress")),
    ).collect()

    # strategic value: the weighted sum, rounded to the score's 4 places (the ruleset's
    # default), so that 0.6 is 0.6 and not 0.6000000000000001 at the band edges
    strategic_value = sum((w * pl.col(c) for c, w in WEIGHTS.items()), pl.lit(0.0))
    sv = strategic_value.round(4, mode="half_away_from_zero")
    sv_band = (pl.when(sv < 0.3).then(pl.lit("low"))
               .when(sv <= 0.6).then(pl.lit("medium"))
               .otherwise(pl.lit("high")))

    # ARR band method: log when the top 10% of accounts hold more than 50% of ARR,
    # quartile when no account holds more than 5%; neither or both: the fallback (log)
    arr = df["arr"]
    total = arr.sum()
    top = arr.top_k(max(1, math.ceil(len(arr) * TOP_FRACTION))).sum()
    long_tailed = total > 0 and top / total > LOG_WHEN_TOP_SHARE_OVER
    no_whale = total > 0 and arr.max() / total <= QUARTILE_WHEN_MAX_SHARE_AT_MOST
    method = "quartile" if no_whale and not long_tailed else "log"

    a = pl.col("arr")
    if method == "log":  # <1K, 1K-10K -> low; 10K-100K -> mid; 100K-500K, 500K+ -> high
        row = (pl.when(a < 10_000).then(pl.lit("low"))
               .when(a < 100_000).then(pl.lit("mid"))
               .otherwise(pl.lit("high")))
    else:  # Q1, Q2 -> low; Q3 -> mid; Q4 -> high: edges at the numpy-linear 50th and
        # 75th percentiles (the 25th only parts Q1 from Q2, which share a row)
        median, q3 = (arr.quantile(q, interpolation="linear") for q in (0.50, 0.75))
        row = (pl.when(a < median).then(pl.lit("low"))
               .when(a < q3).then(pl.lit("mid"))
               .otherwise(pl.lit("high")))
    cells = {f"{r}.{c}": tier for r, tiers in GRID.items() for c, tier in zip(SV_BANDS, tiers)}
    tier = pl.concat_str([row, sv_band], separator=".").replace_strict(cells)

    # the eight flags, in the ruleset's order; a blank input makes its comparison unknown
    # and a rule fires only when its condition is true (| and & are three-valued in polars)
    days_since_advocacy = (pl.lit(as_of) - pl.col("public_advocacy_date")).dt.total_days()
    seat_utilization = (pl.when(pl.col("seats_licensed") != 0)
                        .then(pl.col("seats_used") / pl.col("seats_licensed")))
    flags = {
        "strategic_champion": days_since_advocacy.is_between(0, 365),
        "expansion_ready": (seat_utilization > 0.8) | pl.col("expansion_intent"),
        "regulated_industry": ~pl.col("regulated_framework").is_in(NOT_REGULATED),
        "design_partner": pl.col("design_partner"),
        "at_risk_retention": (pl.col("health_score") < 40) | pl.col("churn_signal"),
        "reference_account": pl.col("reference_agreement"),
        "m_and_a_transition": pl.col("m_and_a_in_progress"),
        "multi_product": pl.col("sku_count") > 1,
    }
    flag_list = pl.concat_str([pl.when(fired).then(pl.lit(name)) for name, fired in flags.items()],
                              separator=";", ignore_nulls=True)
    return df.select("account_id", tier.alias("tier"), flag_list.alias("flags"))


def disagreements(ours: pl.DataFrame, tierbook_csv: str) -> tuple[int, list[str]]:
    """(accounts compared, lines naming each account whose tier or set of flags differs
    from tierbook's accounts.csv, or that only one side has)."""
    theirs = pl.read_csv(tierbook_csv, columns=["account_id", "tier", "flags"],
                         infer_schema=False)
    both = ours.join(theirs, on="account_id", how="full", suffix="_tierbook",
                     coalesce=False, maintain_order="left")

    def flag_set(c: str) -> pl.Expr:
        return pl.col(c).fill_null("").str.split(";").list.eval(
            pl.element().filter(pl.element() != "")).list.sort()

    bad = both.filter(
        pl.col("account_id").is_null() | pl.col("account_id_tierbook").is_null()
        | (pl.col("tier") != pl.col("tier_tierbook"))
        | (flag_set("flags") != flag_set("flags_tierbook")))
    lines = []
    for r in bad.iter_rows(named=True):
        if r["account_id_tierbook"] is None:
            lines.append(f"{r['account_id']}: not in tierbook's accounts")
        elif r["account_id"] is None:
            lines.append(f"{r['account_id_tierbook']}: only in tierbook's accounts")
        else:
            lines.append(f"{r['account_id']}: polars {r['tier']} [{r['flags'] or ''}], "
                         f"tierbook {r['tier_tierbook']} [{r['flags_tierbook'] or ''}]")
    return both.height, lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("portfolio", help="portfolio CSV (canonical column names)")
    ap.add_argument("out", help="CSV to write: account_id,tier,flags")
    ap.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today(),
                    help="date the date rules compare against (default: today)")
    ap.add_argument("--check", metavar="ACCOUNTS_CSV",
                    help="tierbook's accounts.csv of the same portfolio and as-of date: "
                         "exit 1 if any account's tier or flags differ")
    ap.add_argument("--show", type=int, default=10,
                    help="disagreements to name with --check (default 10)")
    args = ap.parse_args(argv)

    result = segment(args.portfolio, args.as_of)
    result.write_csv(args.out)
    if not args.check:
        return 0
    compared, bad = disagreements(result, args.check)
    if bad:
        print(f"{len(bad):,} of {compared:,} accounts disagree with {args.check}; the first:",
              file=sys.stderr)
        for line in bad[:args.show]:
            print("  " + line, file=sys.stderr)
        return 1
    print(f"all {compared:,} accounts agree with {args.check} (tier and flags)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
