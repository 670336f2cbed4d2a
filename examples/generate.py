#!/usr/bin/env python3
"""Generate tierbook's sample portfolio, two raw CRM exports and 8 quarters of events.

Deterministic and stdlib-only: every random draw comes from a ``random.Random`` seeded
from ``--seed``, values are written as text with fixed formatting, so the same arguments
always give byte-identical files.

    python examples/generate.py                      # regenerate the committed examples
    python examples/generate.py --out-dir /tmp/x     # the same four files elsewhere
    python examples/generate.py --accounts 100000 --seed 7 \\
        --portfolio /tmp/p.csv --events /tmp/e.csv   # benchmark input (only these two)

The portfolio is streamed row by row; the event generator keeps a compact per-account
state in typed arrays (about 40 bytes an account), so a million accounts fit easily.

What the data is shaped to exercise (see /work/shared/SPEC.md sections 1-2):
- ARR is a long-tailed mixture of five segments (PLG to enterprise), so the top 10% of
  accounts hold well over half of ARR while no account holds more than 5%.
- Strategic-value factors follow ARR only loosely: some small accounts are strategic and
  some large ones are not, so every cell of the 3x3 tier grid is populated.
- Every override flag of the default ruleset fires for some accounts; a few accounts sit
  exactly on ARR band boundaries.
- Events: yearly renewals in the quarter of ``renewal_date``, expansions, contractions,
  health-driven churn (nothing follows a churn), new accounts, signals, one CSM capacity
  change (+19%) and one product launch; some accounts cross ARR thresholds upward and some
  show high expansion signals for two consecutive quarters.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import random
import re
import sys
import time
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

AS_OF = dt.date(2026, 10, 1)
DEFAULT_ACCOUNTS = 3000
DEFAULT_SEED = 20261001
DEFAULT_QUARTER_COUNT = 8
CRM_EXPORT_ROWS = 200
ID_PREFIX = "ACC-"
# CSM headcount the sample organisation starts with for a 3,000-account book; the one
# capacity_change event moves it to 50 (+19%, above the spec's 15% re-calibration trigger).
BASELINE_CSMS = 42
CAPACITY_CHANGE_CSMS = 50

PORTFOLIO_COLUMNS: tuple[str, ...] = (
    "account_id", "account_name", "arr",
    "strategic_logo", "expansion_potential", "product_influence", "reference_value",
    "regulatory_exposure", "public_advocacy_date", "seats_licensed", "seats_used",
    "expansion_intent", "regulated_framework", "design_partner", "health_score",
    "churn_signal", "reference_agreement", "m_and_a_in_progress", "sku_count",
    "current_tier", "csm",
    # keep-segment ruleset (health + expansion)
    "dau_mau", "core_features_used", "core_features_available", "csat", "open_escalations",
    "exec_access", "champion_active", "nps", "higher_tier_feature_requests",
    "company_growth_signal", "teams_using", "api_usage_spike",
    # customer-success ruleset (health-first)
    "usage_score", "engagement_score", "support_score", "outcomes_score",
    "relationship_score", "previous_health_score", "exec_sponsor_left", "competitive_rfp",
    "escalations_increasing", "usage_change", "missed_qbrs", "renewal_conversation_delayed",
    "start_date", "renewal_date",
    # priority-model ruleset
    "monthly_contacts", "estimated_potential_arr", "current_coverage", "use_case_complexity",
)
EVENT_COLUMNS: tuple[str, ...] = ("quarter", "account_id", "type", "field", "value")
BOOLEAN_COLUMNS = frozenset({
    "expansion_intent", "design_partner", "churn_signal", "reference_agreement",
    "m_and_a_in_progress", "exec_access", "champion_active", "company_growth_signal",
    "api_usage_spike", "exec_sponsor_left", "competitive_rfp", "escalations_increasing",
    "renewal_conversation_delayed",
})
DATE_COLUMNS = frozenset({"public_advocacy_date", "start_date", "renewal_date"})
_REST = tuple(c for c in PORTFOLIO_COLUMNS if c not in ("account_id", "account_name", "arr"))
SALESFORCE_COLUMNS: tuple[str, ...] = (
    "Id", "Name", "AnnualRevenue", "NumberOfEmployees", "Industry", *_REST)
HUBSPOT_COLUMNS: tuple[str, ...] = (
    "hs_object_id", "name", "annualrevenue", "numberofemployees", "industry", *_REST)

TIERS = ("plg_self_serve", "tech_touch", "mid_touch", "high_touch_enterprise")
# Default tier grid as indexes into TIERS: rows ARR low/mid/high, columns value low/medium/high.
_GRID = ((0, 1, 2), (1, 2, 3), (2, 2, 3))
COVERAGE = ("digital", "tier_3", "tier_2", "tier_1")  # same order as TIERS
# (share of accounts, lowest ARR, highest ARR); ARR is log-uniform inside a segment.
ARR_SEGMENTS = ((0.45, 100.0, 1_000.0), (0.30, 1_000.0, 10_000.0),
                (0.17, 10_000.0, 100_000.0), (0.06, 100_000.0, 500_000.0),
                (0.02, 500_000.0, 3_000_000.0))
NEW_ACCOUNT_SEGMENTS = ((0.55, 100.0, 1_000.0), (0.30, 1_000.0, 10_000.0),
                        (0.12, 10_000.0, 100_000.0), (0.03, 100_000.0, 400_000.0))
# ARR thresholds of the shipped rulesets' defaults (log bands, health-first segments):
# "crosser" accounts just below one of these move above it on renewal or expansion.
ARR_THRESHOLDS = (1_000.0, 10_000.0, 25_000.0, 100_000.0, 500_000.0)
FRAMEWORKS = (("HIPAA", 5), ("PCI", 4), ("SOC2", 6), ("gov", 2), ("FedRAMP", 2), ("GDPR", 5))
CSMS = ("Dana Ortiz", "Priya Raman", "Marcus Bell", "Sofia Lindqvist", "Kenji Watanabe",
        "Amara Okafor", "Luis Herrera", "Hannah Schmidt", "Tariq Haddad", "Grace Liu",
        "Noah Friedman", "Isabel Costa", "Owen Gallagher", "Mei Tanaka", "Daniel Mensah",
        "Chloe Dubois", "Ravi Iyer", "Elena Petrova")
# Enterprise CSMs take high-touch accounts, the others mid-touch; two do both. Uneven
# weights leave the territories unbalanced, which territory rebalancing should notice.
_HIGH_CSMS = tuple(range(0, 8))
_MID_CSMS = tuple(range(6, 18))
_CSM_WEIGHTS = (1.0, 1.6, 0.8, 1.2, 2.0, 0.9, 1.1, 1.4, 0.7, 1.8, 1.0, 1.3, 0.6, 1.5, 1.0,
                2.2, 0.9, 1.2)

_FIRST = ("North", "Blue", "Silver", "Iron", "Bright", "Clear", "Red", "Stone", "Green",
          "Swift", "Summit", "Harbor", "Cedar", "Maple", "Pine", "Oak", "River", "Lake",
          "Sun", "Star", "Cloud", "Rock", "Gold", "Copper", "Crystal", "Eagle", "Falcon",
          "Fox", "Wolf", "Bear", "Lion", "Atlas", "Nova", "Vertex", "Apex", "Prime", "True",
          "Bold", "Key", "Peak", "High", "Deep", "Far", "West", "East", "South", "Arc",
          "Core", "Open", "Quantum", "Ever", "Sky", "Ocean", "Terra", "Zen", "Pixel",
          "Signal", "Beacon", "Orbit", "Hyper")
_SECOND = ("wave", "field", "point", "bridge", "works", "forge", "path", "line", "gate",
           "view", "light", "crest", "ridge", "wood", "brook", "vale", "port", "stack",
           "logic", "scale", "shift", "spark", "sight", "bay", "mark", "well", "way",
           "loop", "hub", "grid", "bit", "leaf", "mont", "haven", "spring", "craft", "dale",
           "fort", "mill", "stream")
_SUFFIX = ("Analytics", "Health", "Logistics", "Software", "Systems", "Financial",
           "Capital", "Media", "Foods", "Energy", "Robotics", "Biotech", "Retail",
           "Manufacturing", "Insurance", "Networks", "Security", "Education", "Pharma",
           "Consulting", "Telecom", "Airlines", "Motors", "Realty", "Studios", "Partners",
           "Technologies", "Labs", "Dynamics", "Solutions", "Bank", "Clinics", "Cloud",
           "Data", "Payments", "Apparel", "Travel", "Games", "Legal", "Construction")
_QUALIFIERS = ("", " Group", " Holdings", " International", " Global", " & Co",
               " Americas", " Europe", " Asia Pacific", " Worldwide", " Ventures",
               " Enterprises", " Industries")
_INDUSTRY = {
    "Health": "Healthcare", "Clinics": "Healthcare", "Biotech": "Biotechnology",
    "Pharma": "Pharmaceuticals", "Financial": "Financial Services", "Capital":
    "Financial Services", "Bank": "Banking", "Payments": "Financial Services",
    "Insurance": "Insurance", "Logistics": "Transportation", "Airlines": "Transportation",
    "Travel": "Hospitality", "Motors": "Automotive", "Foods": "Food & Beverage",
    "Retail": "Retail", "Apparel": "Retail", "Energy": "Energy", "Manufacturing":
    "Manufacturing", "Robotics": "Manufacturing", "Construction": "Construction",
    "Media": "Media", "Studios": "Entertainment", "Games": "Entertainment", "Education":
    "Education", "Telecom": "Telecommunications", "Networks": "Telecommunications",
    "Realty": "Real Estate", "Legal": "Legal Services", "Consulting": "Consulting",
    "Partners": "Consulting",
}

# ---------------------------------------------------------------------------- helpers


def _clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo if x < lo else hi if x > hi else x


def _ratio(x: float) -> str:
    return f"{_clamp(x):.2f}"


def _int100(x: float) -> str:
    return str(int(round(_clamp(x, 0.0, 100.0))))


def _bool(flag: bool) -> str:
    return "true" if flag else "false"


def _randint(rnd: random.Random, lo: int, hi: int) -> int:
    return lo + int(rnd.random() * (hi - lo + 1))


def _weighted(rnd: random.Random, weights: Sequence[float]) -> int:
    x = rnd.random() * sum(weights)
    for i, w in enumerate(weights):
        x -= w
        if x < 0:
            return i
    return len(weights) - 1


def _anniversary(start: dt.date, year: int) -> dt.date:
    try:
        return start.replace(year=year)
    except ValueError:  # 29 February in a non-leap year
        return dt.date(year, 2, 28)


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_range(first: str, count: int) -> list[str]:
    """``count`` consecutive quarters starting at ``first`` (written like 2026Q4)."""
    year, q = int(first[:4]), int(first[5])
    out = []
    for _ in range(count):
        out.append(f"{year}Q{q}")
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out


def _quarter_start(quarter: str) -> dt.date:
    return dt.date(int(quarter[:4]), 3 * int(quarter[5]) - 2, 1)


DEFAULT_QUARTERS: tuple[str, ...] = tuple(quarter_range(quarter_of(AS_OF), DEFAULT_QUARTER_COUNT))


def id_width(n: int) -> int:
    """Digits of the zero-padded account number: room for n accounts plus as many new ones."""
    return max(5, len(str(2 * n)))


_NAME_SPACE = len(_FIRST) * len(_SECOND) * len(_SUFFIX)


def _permute(i: int) -> int:
    """A fixed pseudo-random bijection of range(_NAME_SPACE): a small Feistel network
    with cycle walking. Names are unique without keeping a set of the names seen."""
    half_bits = (_NAME_SPACE - 1).bit_length() // 2 + 1
    mask = (1 << half_bits) - 1
    x = i
    while True:
        left, right = x >> half_bits, x & mask
        for key in (0x5BD1E995, 0x27D4EB2F, 0x165667B1, 0x9E3779B1):
            left, right = right, left ^ ((((right * 0x45D9F3B) ^ key) >> 7) & mask)
        x = (left << half_bits) | right
        if x < _NAME_SPACE:
            return x


def company_name(index: int) -> str:
    """The unique company name of account number ``index + 1`` (independent of the seed)."""
    block, rest = divmod(index, _NAME_SPACE)
    p = _permute(rest)
    p, s = divmod(p, len(_SUFFIX))
    f, w = divmod(p, len(_SECOND))
    qualifier = _QUALIFIERS[block] if block < len(_QUALIFIERS) else f" {block + 1}"
    return f"{_FIRST[f]}{_SECOND[w]} {_SUFFIX[s]}{qualifier}"


# -------------------------------------------------------------------------- portfolio


def _make_account(rnd: random.Random, number: int, width: int, as_of: dt.date,
                  segments: Sequence[tuple[float, float, float]],
                  start_date: dt.date | None = None) -> dict[str, str]:
    """One account as CSV-ready text. ``start_date`` given: a new account signed that day."""
    r = rnd.random
    gauss = rnd.gauss
    seg = _weighted(rnd, [s[0] for s in segments])
    _, lo, hi = segments[seg]
    if r() < 0.002:
        arr = lo  # exactly on a band boundary: bands are half-open [lower, upper)
    else:
        arr = round(lo * (hi / lo) ** r(), 2)
    t = _clamp((math.log10(arr) - 2.0) / 4.5)  # 0 at $100, ~1 at $3M

    # Regulation first: it raises regulatory_exposure.
    u = r()
    framework = "" if u < 0.02 else ("none" if u < 0.80 else
                                     FRAMEWORKS[_weighted(rnd, [w for _, w in FRAMEWORKS])][0])
    regulated = framework not in ("", "none")

    # Strategic value follows ARR only loosely (spec: strategic value is NOT revenue).
    u = r()
    if u < 0.09:
        base = 0.55 + 0.37 * r()  # strategic beyond its revenue
    elif u < 0.19:
        base = 0.04 + 0.22 * r()  # large but commodity
    else:
        base = 0.12 + 0.48 * t + gauss(0.0, 0.11)
    logo = _clamp(base + 0.15 * (t - 0.5) + gauss(0.0, 0.10))
    potential = _clamp(base + gauss(0.0, 0.12))
    influence = _clamp(base + gauss(0.0, 0.12))
    reference = _clamp(base + gauss(0.0, 0.12))
    exposure = _clamp(0.6 * base + (0.35 if regulated else 0.0) + gauss(0.0, 0.10))

    health = _clamp(gauss(67.0 + 8.0 * t, 16.0), 3.0, 99.0)
    hn = health / 100.0

    if start_date is None:
        start = as_of - dt.timedelta(days=_randint(rnd, 0, 6 * 365))
        renewal = _anniversary(start, as_of.year)
        if renewal < as_of:
            renewal = _anniversary(start, as_of.year + 1)
        if renewal == start:
            renewal = _anniversary(start, start.year + 1)
    else:
        start = start_date
        renewal = _anniversary(start, start.year + 1)

    advocacy = ""
    if r() < 0.03 + 0.17 * reference and start_date is None:
        days = _randint(rnd, 5, 360) if r() < 0.5 else _randint(rnd, 372, 725)
        advocacy = (as_of - dt.timedelta(days=days)).isoformat()

    price = math.exp(gauss(math.log(120.0 + 480.0 * t), 0.35))  # per seat per year
    licensed = max(2, int(round(arr / price)))
    if r() < 0.15:
        used = int(math.ceil(licensed * (0.81 + 0.34 * r())))
    else:
        used = min(int(round(licensed * (0.15 + 0.65 * r()))), int(licensed * 0.8))

    intent = r() < 0.04 + 0.15 * potential
    design_partner = r() < 0.01 + 0.05 * influence
    churn_signal = r() < (0.03 if health >= 50 else 0.15)
    reference_agreement = r() < 0.015 + 0.16 * reference * (0.5 + hn)
    m_and_a = r() < 0.015
    u = r()
    sku = (1 if u < 0.82 - 0.3 * t else 2 if u < 0.92 - 0.15 * t else
           3 if u < 0.96 - 0.05 * t else 4 if u < 0.985 else 5)

    # Current coverage: what the default grid recommends (log ARR rows x strategic value),
    # with ~20% of accounts covered one tier above or below it.
    value = 0.25 * logo + 0.25 * potential + 0.20 * influence + 0.15 * reference + 0.15 * exposure
    row = 0 if arr < 10_000 else 1 if arr < 100_000 else 2
    column = 0 if value < 0.3 else 2 if value > 0.6 else 1
    tier = _GRID[row][column]
    if r() < 0.2:  # current coverage is often misaligned
        tier = tier + 1 if tier == 0 or (tier < 3 and r() < 0.5) else tier - 1
    csm = ""
    if tier == 3:
        csm = CSMS[_HIGH_CSMS[_weighted(rnd, [_CSM_WEIGHTS[i] for i in _HIGH_CSMS])]]
    elif tier == 2:
        csm = CSMS[_MID_CSMS[_weighted(rnd, [_CSM_WEIGHTS[i] for i in _MID_CSMS])]]
    coverage = tier if r() >= 0.1 else min(3, max(0, tier + (1 if r() < 0.5 else -1)))

    available = _randint(rnd, 8, 20)
    features_used = max(1, min(available, int(round(available * (0.15 + 0.7 * hn + gauss(0, 0.1))))))
    u = r()
    escalations = 0 if u < 0.80 + 0.15 * hn else _randint(rnd, 1, 5 if health < 50 else 2)
    requests = 0
    if r() < 0.15 + 0.45 * potential:
        requests = _randint(rnd, 1, 6) if r() < 0.5 else 1
    teams = 1 if r() < 0.55 - 0.35 * t else _randint(rnd, 2, 2 + int(6 * t))
    scores = [_int100(health + gauss(0.0, 10.0)) for _ in range(5)]
    previous = health + gauss(0.0, 6.0) + (20.0 + 15.0 * r() if r() < 0.05 else 0.0)
    usage_change = gauss(0.04, 0.12) - (0.25 if health < 45 and r() < 0.4 else 0.0)
    missed = 0 if r() < 0.6 + 0.35 * hn else _randint(rnd, 1, 3)
    contacts = (0.6 * r(), 0.3 + 1.7 * r(), 1.5 + 4.5 * r(), 4.0 + 8.0 * r())[tier]
    estimated = max(arr, round(arr * (1.0 + potential * (0.2 + 2.8 * r())), 2))

    return {
        "account_id": f"{ID_PREFIX}{number:0{width}d}",
        "account_name": company_name(number - 1),
        "arr": f"{arr:.2f}",
        "strategic_logo": _ratio(logo),
        "expansion_potential": _ratio(potential),
        "product_influence": _ratio(influence),
        "reference_value": _ratio(reference),
        "regulatory_exposure": _ratio(exposure),
        "public_advocacy_date": advocacy,
        "seats_licensed": str(licensed),
        "seats_used": str(used),
        "expansion_intent": _bool(intent),
        "regulated_framework": framework,
        "design_partner": _bool(design_partner),
        "health_score": "" if r() < 0.03 else _int100(health),
        "churn_signal": _bool(churn_signal),
        "reference_agreement": _bool(reference_agreement),
        "m_and_a_in_progress": _bool(m_and_a),
        "sku_count": str(sku),
        "current_tier": TIERS[tier],
        "csm": csm,
        "dau_mau": _ratio(0.04 + 0.55 * hn + gauss(0.0, 0.07)),
        "core_features_used": str(features_used),
        "core_features_available": str(available),
        "csat": _int100(45.0 + 0.5 * health + gauss(0.0, 8.0)),
        "open_escalations": str(escalations),
        "exec_access": _bool(r() < 0.15 + 0.6 * t),
        "champion_active": _bool(r() < 0.25 + 0.65 * hn),
        "nps": str(int(round(_clamp(-70.0 + 1.5 * health + gauss(0.0, 18.0), -100.0, 100.0)))),
        "higher_tier_feature_requests": str(requests),
        "company_growth_signal": _bool(r() < 0.06 + 0.25 * potential),
        "teams_using": str(min(teams, 8)),
        "api_usage_spike": _bool(r() < 0.03 + 0.1 * influence),
        "usage_score": scores[0],
        "engagement_score": scores[1],
        "support_score": scores[2],
        "outcomes_score": scores[3],
        "relationship_score": scores[4],
        "previous_health_score": _int100(previous),
        "exec_sponsor_left": _bool(r() < 0.04),
        "competitive_rfp": _bool(r() < (0.02 if health >= 50 else 0.08)),
        "escalations_increasing": _bool(r() < (0.04 if escalations == 0 else 0.3)),
        "usage_change": f"{_clamp(usage_change, -0.35, 0.5):.2f}",
        "missed_qbrs": str(missed),
        "renewal_conversation_delayed": _bool(r() < 0.03 + 0.1 * (1.0 - hn)),
        "start_date": start.isoformat(),
        "renewal_date": renewal.isoformat(),
        "monthly_contacts": f"{contacts:.1f}",
        "estimated_potential_arr": f"{estimated:.2f}",
        "current_coverage": COVERAGE[coverage],
        "use_case_complexity": str(max(1, min(5, int(round(1.0 + 4.0 * t + gauss(0.0, 0.8)))))),
    }


def iter_portfolio(n: int, seed: int, as_of: dt.date = AS_OF) -> Iterator[dict[str, str]]:
    """Stream the portfolio: accounts ACC-00001.. in id order, values as CSV text."""
    rnd = random.Random(seed)
    width = id_width(n)
    for number in range(1, n + 1):
        yield _make_account(rnd, number, width, as_of, ARR_SEGMENTS)


def generate_portfolio(n: int, seed: int) -> list[dict[str, str]]:
    """The whole portfolio as a list of rows (column -> CSV text)."""
    return list(iter_portfolio(n, seed))


# ----------------------------------------------------------------------------- events

_CHAMPION, _INTENT, _CHURN_SIGNAL, _EXEC_ACCESS, _GROWTH = 1, 2, 4, 8, 16
_NORMAL, _CROSSER_RENEWAL, _CROSSER_EXPANSION, _EXPANDER = 0, 1, 2, 3
# Fields a random signal touches, with relative weights.
_SIGNAL_FIELDS: tuple[tuple[str, float], ...] = (
    ("health_score", 24), ("seats_used", 12), ("champion_active", 8), ("dau_mau", 6),
    ("expansion_intent", 6), ("churn_signal", 6), ("public_advocacy_date", 5), ("csat", 5),
    ("nps", 5), ("open_escalations", 5), ("usage_change", 4),
    ("higher_tier_feature_requests", 4), ("exec_sponsor_left", 3), ("missed_qbrs", 3),
    ("renewal_conversation_delayed", 3), ("exec_access", 3), ("company_growth_signal", 3),
    ("teams_using", 3), ("api_usage_spike", 3), ("competitive_rfp", 2), ("sku_count", 2),
    ("reference_agreement", 2), ("monthly_contacts", 2), ("seats_licensed", 2),
    ("escalations_increasing", 2), ("design_partner", 1), ("m_and_a_in_progress", 1),
    ("regulated_framework", 1), ("strategic_logo", 1), ("expansion_potential", 1),
    ("product_influence", 1), ("reference_value", 1), ("current_coverage", 1),
)
_SIGNAL_WEIGHTS = [w for _, w in _SIGNAL_FIELDS]
_COLUMN_ORDER = {c: i for i, c in enumerate(PORTFOLIO_COLUMNS)}
_ID_RE = re.compile(r"^(.*?)(\d+)$")


class _Book:
    """Compact per-account state the event generator needs, in parallel typed arrays."""

    def __init__(self) -> None:
        self.prefix = ID_PREFIX
        self.width = 5
        self.number = array("q")
        self.arr = array("d")
        self.health = array("h")  # -1: unknown
        self.licensed = array("q")
        self.used = array("q")
        self.bits = array("B")
        self.sku = array("b")
        self.teams = array("b")
        self.renewal = array("h")  # renewal_date as days since AS_OF
        self.alive = array("b")

    def __len__(self) -> int:
        return len(self.number)

    def add(self, row: Mapping[str, str]) -> None:
        m = _ID_RE.match(row["account_id"])
        if m is None:
            raise ValueError(f"account_id {row['account_id']!r} does not end in a number")
        if not self.number:
            self.prefix, self.width = m.group(1), len(m.group(2))
        self.number.append(int(m.group(2)))
        self.arr.append(float(row["arr"]))
        self.health.append(int(row["health_score"]) if row.get("health_score") else -1)
        self.licensed.append(int(row["seats_licensed"]))
        self.used.append(int(row["seats_used"]))
        bits = 0
        for flag, column in ((_CHAMPION, "champion_active"), (_INTENT, "expansion_intent"),
                             (_CHURN_SIGNAL, "churn_signal"), (_EXEC_ACCESS, "exec_access"),
                             (_GROWTH, "company_growth_signal")):
            if row.get(column) == "true":
                bits |= flag
        self.bits.append(bits)
        self.sku.append(int(row["sku_count"]))
        self.teams.append(int(row["teams_using"]))
        self.renewal.append((dt.date.fromisoformat(row["renewal_date"]) - AS_OF).days)
        self.alive.append(1)

    def account_id(self, i: int) -> str:
        return f"{self.prefix}{self.number[i]:0{self.width}d}"


def _churn_probability(arr: float, health: int, bits: int) -> float:
    p = 0.30 if 0 <= health < 40 else 0.10 if 0 <= health < 60 else 0.08 if health < 0 else 0.04
    if bits & _CHURN_SIGNAL:
        p += 0.25
    if arr < 1_000:
        p *= 1.3  # self-serve plans churn more
    elif arr >= 100_000:
        p *= 0.6
    return min(p, 0.7)


def _signal_value(rnd: random.Random, book: _Book, i: int, field: str, quarter: str
                  ) -> list[tuple[str, str]]:
    """New value(s) of ``field`` for account ``i``; updates the book's state."""
    r = rnd.random
    health = book.health[i]
    h = 65 if health < 0 else health
    bits = book.bits[i]
    flags = {"champion_active": _CHAMPION, "expansion_intent": _INTENT,
             "churn_signal": _CHURN_SIGNAL, "exec_access": _EXEC_ACCESS,
             "company_growth_signal": _GROWTH}
    if field == "health_score":
        delta = -(20.0 + 15.0 * r()) if r() < 0.25 else rnd.gauss(-2.0, 10.0)
        new = int(round(_clamp(h + delta, 0.0, 100.0)))
        book.health[i] = new
        return [("health_score", str(new)), ("previous_health_score", str(h))]
    if field in flags:
        book.bits[i] = bits ^ flags[field]
        return [(field, _bool(not bits & flags[field]))]
    if field == "seats_used":
        book.used[i] = max(0, int(round(book.licensed[i] * (0.3 + 0.8 * r()))))
        return [(field, str(book.used[i]))]
    if field == "seats_licensed":
        book.licensed[i] = max(book.licensed[i] + 1, int(math.ceil(book.licensed[i] * (1.1 + 0.4 * r()))))
        return [(field, str(book.licensed[i]))]
    if field == "public_advocacy_date":
        return [(field, (_quarter_start(quarter) + dt.timedelta(days=_randint(rnd, 0, 88))).isoformat())]
    if field == "dau_mau":
        return [(field, _ratio(0.04 + 0.55 * h / 100.0 + rnd.gauss(0.0, 0.07)))]
    if field == "csat":
        return [(field, _int100(45.0 + 0.5 * h + rnd.gauss(0.0, 8.0)))]
    if field == "nps":
        return [(field, str(int(round(_clamp(-70.0 + 1.5 * h + rnd.gauss(0.0, 18.0), -100.0, 100.0)))))]
    if field == "open_escalations":
        return [(field, str(0 if r() < 0.4 else _randint(rnd, 1, 5 if h < 50 else 2)))]
    if field == "usage_change":
        return [(field, f"{_clamp(rnd.gauss(-0.05 if h < 50 else 0.05, 0.18), -0.35, 0.5):.2f}")]
    if field == "higher_tier_feature_requests":
        return [(field, str(_randint(rnd, 0, 6)))]
    if field == "missed_qbrs":
        return [(field, str(_randint(rnd, 0, 3)))]
    if field in ("exec_sponsor_left", "competitive_rfp", "design_partner",
                 "m_and_a_in_progress"):
        return [(field, "true")]
    if field in ("renewal_conversation_delayed", "api_usage_spike", "reference_agreement",
                 "escalations_increasing"):
        return [(field, _bool(r() < 0.6))]
    if field == "teams_using":
        book.teams[i] = min(8, book.teams[i] + 1)
        return [(field, str(book.teams[i]))]
    if field == "sku_count":
        book.sku[i] = min(5, book.sku[i] + 1)
        return [(field, str(book.sku[i]))]
    if field == "monthly_contacts":
        return [(field, f"{12.0 * r() * r():.1f}")]
    if field == "regulated_framework":
        return [(field, FRAMEWORKS[_weighted(rnd, [w for _, w in FRAMEWORKS])][0])]
    if field == "current_coverage":
        return [(field, COVERAGE[_randint(rnd, 0, 3)])]
    # strategic-value factors
    return [(field, _ratio(0.1 + 0.85 * r()))]


def iter_events(book: _Book, quarters: Sequence[str], seed: int) -> Iterator[dict[str, str]]:
    """Stream events quarter by quarter, in (quarter, account_id, stable) order.

    ``book`` holds the accounts in ascending id order; new accounts are appended to it.
    """
    rnd = random.Random(f"tierbook-events:{seed}")
    new_rnd = random.Random(f"tierbook-new-accounts:{seed}")
    r = rnd.random
    n0 = len(book)
    quarter_days = [(_quarter_start(q) - AS_OF).days for q in quarters]

    def quarter_index(days: int) -> int:
        k = 0
        while k + 1 < len(quarter_days) and quarter_days[k + 1] <= days:
            k += 1
        return k if days >= quarter_days[0] else -1

    # Programs: a few accounts just below an ARR threshold cross it (on renewal or by an
    # expansion), and ~1.2% show HIGH expansion signals for two consecutive quarters.
    program = array("b", bytes(n0))
    program_quarter = array("b", bytes(n0))
    program_target = array("d", bytes(8 * n0))
    for i in range(n0):
        arr = book.arr[i]
        for threshold in ARR_THRESHOLDS:
            if 0.85 * threshold <= arr < threshold and r() < 0.12:
                first = quarter_index(book.renewal[i])
                if 0 <= first < len(quarters) and r() < 0.5:
                    program[i], program_quarter[i] = _CROSSER_RENEWAL, first
                else:
                    program[i] = _CROSSER_EXPANSION
                    program_quarter[i] = _randint(rnd, 0, max(0, len(quarters) - 3))
                program_target[i] = threshold
                break
        else:
            if len(quarters) >= 2 and r() < 0.012:
                program[i] = _EXPANDER
                program_quarter[i] = _randint(rnd, 0, len(quarters) - 2)

    next_number = (max(book.number) if n0 else 0) + 1
    new_base = max(1, round(n0 / 150))
    renewal_first = array("h", (quarter_index(d) for d in book.renewal))
    signal_total = sum(_SIGNAL_WEIGHTS)

    for k, quarter in enumerate(quarters):
        def event(account: str, kind: str, field: str = "", value: str = "") -> dict[str, str]:
            return {"quarter": quarter, "account_id": account, "type": kind,
                    "field": field, "value": value}

        if k == 2:
            csms = max(1, round(CAPACITY_CHANGE_CSMS * n0 / DEFAULT_ACCOUNTS))
            yield event("", "capacity_change", "csms", str(csms))
        if k == 3:
            yield event("", "product_launch", "",
                        "AI Copilot add-on launched: product influence now counts AI adoption")

        for i in range(len(book)):
            if not book.alive[i]:
                continue
            u = r()
            first = renewal_first[i]
            renews = 0 <= first <= k and (k - first) % 4 == 0
            prog = program[i] if i < n0 else _NORMAL
            in_program = prog != _NORMAL and (
                program_quarter[i] == k or (prog == _EXPANDER and program_quarter[i] + 1 == k))
            if u >= 0.165 and not renews and not in_program:
                continue
            account = book.account_id(i)
            protected = prog != _NORMAL

            signals: dict[str, str] = {}
            if u < 0.10:
                for _ in range(1 if r() < 0.6 else 2 if r() < 0.7 else 3):
                    x = r() * signal_total
                    for field, w in _SIGNAL_FIELDS:
                        x -= w
                        if x < 0:
                            break
                    signals.update(_signal_value(rnd, book, i, field, quarter))
            if in_program and prog == _EXPANDER:
                second = program_quarter[i] + 1 == k
                lic = book.licensed[i]
                used = max(int(lic * 0.8) + 1,
                           int(math.ceil(lic * ((0.9 + 0.25 * r()) if second else (0.82 + 0.15 * r())))))
                book.used[i] = used
                book.bits[i] |= _GROWTH
                signals["seats_used"] = str(used)
                signals["higher_tier_feature_requests"] = str(_randint(rnd, 4, 6) if second else _randint(rnd, 3, 4))
                signals["company_growth_signal"] = "true"
            for field in sorted(signals, key=_COLUMN_ORDER.__getitem__):
                yield event(account, "signal", field, signals[field])

            churn = False
            if not protected:
                if renews:
                    churn = r() < _churn_probability(book.arr[i], book.health[i], book.bits[i])
                elif 0.16 <= u < 0.165:
                    h = book.health[i]
                    churn = (0 <= h < 50) or bool(book.bits[i] & _CHURN_SIGNAL)

            arr = book.arr[i]
            if not churn:
                if in_program and prog == _CROSSER_EXPANSION:
                    target = program_target[i] * (1.01 + 0.11 * r())
                    if target > arr:
                        amount = round(target - arr, 2)
                        yield event(account, "expansion", "arr", f"{amount:.2f}")
                        arr = round(arr + amount, 2)
                elif 0.10 <= u < 0.14:
                    amount = max(1.0, round(arr * (0.08 + 0.42 * r()), 2))
                    yield event(account, "expansion", "arr", f"{amount:.2f}")
                    arr = round(arr + amount, 2)
                elif 0.14 <= u < 0.16 and not protected:
                    amount = round(arr * (0.05 + 0.25 * r()), 2)
                    if 0 < amount < arr:
                        yield event(account, "contraction", "arr", f"{amount:.2f}")
                        arr = round(arr - amount, 2)
                if renews:
                    if in_program and prog == _CROSSER_RENEWAL:
                        new_arr = max(arr, round(program_target[i] * (1.01 + 0.11 * r()), 2))
                    elif protected:
                        new_arr = round(arr * (1.0 + 0.15 * r()), 2)
                    else:
                        h = book.health[i]
                        top = 0.30 if h >= 60 or h < 0 else 0.10
                        new_arr = max(1.0, round(arr * (0.85 + (top + 0.15) * r()), 2))
                    yield event(account, "renewal", "arr", f"{new_arr:.2f}")
                    arr = new_arr
                book.arr[i] = arr
            else:
                book.alive[i] = 0
                yield event(account, "churn")

        # New accounts sign during the quarter; ids continue the sequence.
        start = _quarter_start(quarter)
        for _ in range(_randint(new_rnd, new_base - new_base // 5, new_base + new_base // 5)):
            signed = start + dt.timedelta(days=_randint(new_rnd, 0, 89))
            row = _make_account(new_rnd, next_number, book.width, AS_OF,
                                NEW_ACCOUNT_SEGMENTS, start_date=signed)
            row["account_id"] = f"{book.prefix}{next_number:0{book.width}d}"
            next_number += 1
            yield event(row["account_id"], "new_account")
            for field in PORTFOLIO_COLUMNS[1:]:
                if row[field] != "":
                    yield event(row["account_id"], "signal", field, row[field])
            book.add(row)
            renewal_first.append(k + 4)


def generate_events(accounts: Iterable[Mapping[str, str]], quarters: Sequence[str],
                    seed: int) -> list[dict[str, str]]:
    """All events for ``accounts`` over ``quarters`` (written like 2026Q4), as rows."""
    book = _Book()
    for row in sorted(accounts, key=lambda a: (len(a["account_id"]), a["account_id"])):
        book.add(row)
    return list(iter_events(book, quarters, seed))


# ------------------------------------------------------------------------ CRM exports


def _crm_rows(accounts: Iterable[Mapping[str, str]], seed: int, style: str
              ) -> Iterator[dict[str, str]]:
    """Accounts as a raw CRM export of ``style`` 'salesforce' or 'hubspot' would show them."""
    rnd = random.Random(f"tierbook-crm:{seed}")  # same draws for both styles
    for row in accounts:
        arr = float(row["arr"])
        t = _clamp((math.log10(arr) - 2.0) / 4.5)
        employees = max(1, int(10 ** (0.7 + 3.8 * t + rnd.gauss(0.0, 0.35))))
        words = row["account_name"].split()
        industry = _INDUSTRY.get(words[1] if len(words) > 1 else "", "Technology")
        percent = rnd.random() < 0.12
        out: dict[str, str] = {}
        for column in _REST:
            value = row[column]
            if style == "salesforce":
                if column in BOOLEAN_COLUMNS:
                    value = "Yes" if value == "true" else "No"
                elif column in DATE_COLUMNS and value:
                    value = dt.date.fromisoformat(value).strftime("%m/%d/%Y")
                elif column == "dau_mau" and percent:
                    value = f"{round(float(value) * 100):d}%"
            elif column in BOOLEAN_COLUMNS:
                value = "TRUE" if value == "true" else "FALSE"
            out[column] = value
        if style == "salesforce":
            out.update({"Id": row["account_id"], "Name": row["account_name"],
                        "AnnualRevenue": f"${arr:,.2f}", "NumberOfEmployees": str(employees),
                        "Industry": industry})
        else:
            plain = f"{arr:.2f}".rstrip("0").rstrip(".")
            out.update({"hs_object_id": row["account_id"], "name": row["account_name"],
                        "annualrevenue": plain, "numberofemployees": str(employees),
                        "industry": industry})
        yield out


def salesforce_rows(accounts: Iterable[Mapping[str, str]], seed: int) -> list[dict[str, str]]:
    return list(_crm_rows(accounts, seed, "salesforce"))


def hubspot_rows(accounts: Iterable[Mapping[str, str]], seed: int) -> list[dict[str, str]]:
    return list(_crm_rows(accounts, seed, "hubspot"))


# ---------------------------------------------------------------------------- writing


def write_csv(rows: Iterable[Mapping[str, str]], path: str | os.PathLike[str],
              columns: Sequence[str]) -> int:
    """Write ``rows`` with a header of ``columns``; returns the number of data rows.

    Written to a temporary file beside ``path`` and renamed, so a failure never leaves a
    half-written file in place of a good one.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([row.get(c, "") for c in columns])
                count += 1
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return count


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Generate tierbook's sample portfolio, CRM exports and events.")
    parser.add_argument("--accounts", type=int, default=DEFAULT_ACCOUNTS,
                        help="number of accounts (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="random seed (default %(default)s)")
    parser.add_argument("--quarters", type=int, default=DEFAULT_QUARTER_COUNT,
                        help="quarters of events from %s (default %%(default)s)" % DEFAULT_QUARTERS[0])
    parser.add_argument("--out-dir", help="write all four files here (default: beside this "
                        "script, unless a single file path below is given)")
    for name in ("portfolio", "events", "salesforce", "hubspot"):
        parser.add_argument(f"--{name}", metavar="PATH",
                            help=f"write the {name} file to PATH (giving any of these "
                            "without --out-dir writes only the files named)")
    args = parser.parse_args(argv)
    if args.accounts < 1:
        parser.error("--accounts must be at least 1")
    if args.quarters < 1:
        parser.error("--quarters must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    explicit = {name: getattr(args, name) for name in ("portfolio", "events", "salesforce",
                                                       "hubspot") if getattr(args, name)}
    targets: dict[str, Path] = {}
    if args.out_dir or not explicit:
        out_dir = Path(args.out_dir) if args.out_dir else Path(__file__).resolve().parent
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = {name: out_dir / f"{name}.csv" for name in ("portfolio", "events")}
        targets["salesforce"] = out_dir / "salesforce-export.csv"
        targets["hubspot"] = out_dir / "hubspot-export.csv"
    targets.update({name: Path(path) for name, path in explicit.items()})

    started = time.perf_counter()
    quarters = quarter_range(DEFAULT_QUARTERS[0], args.quarters)
    book = _Book()
    head: list[dict[str, str]] = []

    def portfolio() -> Iterator[dict[str, str]]:
        for row in iter_portfolio(args.accounts, args.seed):
            book.add(row)
            if len(head) < CRM_EXPORT_ROWS:
                head.append(row)
            yield row

    if "portfolio" in targets:
        count = write_csv(portfolio(), targets["portfolio"], PORTFOLIO_COLUMNS)
        print(f"wrote {targets['portfolio']} ({count} accounts)", file=sys.stderr)
    else:
        for _ in portfolio():
            pass
    if "events" in targets:
        count = write_csv(iter_events(book, quarters, args.seed), targets["events"],
                          EVENT_COLUMNS)
        print(f"wrote {targets['events']} ({count} events)", file=sys.stderr)
    if "salesforce" in targets:
        count = write_csv(_crm_rows(head, args.seed, "salesforce"), targets["salesforce"],
                          SALESFORCE_COLUMNS)
        print(f"wrote {targets['salesforce']} ({count} rows)", file=sys.stderr)
    if "hubspot" in targets:
        count = write_csv(_crm_rows(head, args.seed, "hubspot"), targets["hubspot"],
                          HUBSPOT_COLUMNS)
        print(f"wrote {targets['hubspot']} ({count} rows)", file=sys.stderr)
    print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
