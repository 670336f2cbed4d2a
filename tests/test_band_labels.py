"""Band labels that spell their edges are rewritten in their own style when an edge moves."""

from __future__ import annotations

import pytest

from tierbook.assess.band_labels import relabel


@pytest.mark.parametrize(
    ("label", "old", "new", "want"),
    [
        ("$1K-$10K", (1000, 10000), (1000, 5000), "$1K-$5K"),
        ("$10K-$100K", (10000, 100000), (6666.666667, 100000), "$6.67K-$100K"),
        ("<$1K", (None, 1000), (None, 1500), "<$1.5K"),
        ("$500K+", (500000, None), (750000, None), "$750K+"),
        ("$900K-$1M", (900000, 1e6), (900000, 1.5e6), "$900K-$1.5M"),
        ("$1,000-$10,000", (1000, 10000), (1000, 6666.666667), "$1,000-$6,666.67"),
        ("10k-100k", (10000, 100000), (15000, 100000), "15k-100k"),
        ("0.3-0.6", (0.3, 0.6), (0.3, 0.65), "0.3-0.65"),
    ],
)
def test_labels_follow_the_edges(label: str, old: tuple, new: tuple, want: str) -> None:
    assert relabel(label, old, new) == want


@pytest.mark.parametrize(
    ("label", "old", "new"),
    [
        ("High", (0.6, None), (0.7, None)),  # a name
        ("Q1", (None, 1), (None, 2)),  # a name with a digit that is not an edge
        ("Tier 2: $10K+", (10000, None), (5000, None)),  # one number is not an edge
        ("$1,000 to $9,999", (1000, 10000), (1000, 5000)),  # 9,999 is not the edge 10,000
        ("$1K-$10K", (1000, 10000), (1000, 10000)),  # nothing moved
    ],
)
def test_labels_that_do_not_spell_the_edges_stay(label: str, old: tuple, new: tuple) -> None:
    assert relabel(label, old, new) is None
