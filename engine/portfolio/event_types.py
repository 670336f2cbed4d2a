"""The kinds of event an events file may hold, and those that belong to an account: the
vocabulary the events reader checks each line against and the ruleset checks hold a
rule's `event` conditions and triggers to (which must not import the reader itself)."""

from __future__ import annotations

TYPES = (
    "renewal",
    "expansion",
    "contraction",
    "churn",
    "new_account",
    "signal",
    "capacity_change",
    "product_launch",
    "reactivation",
)
ACCOUNT_TYPES = {
    "renewal",
    "expansion",
    "contraction",
    "churn",
    "new_account",
    "signal",
    "reactivation",
}
