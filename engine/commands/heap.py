"""Python's cyclic garbage collector, tuned while a command holds a large book of Python
objects.

A replay keeps every account's inputs, state and quarter rows as dicts for all its
quarters: millions of long-lived objects, none of them garbage.  With the interpreter's
default thresholds the collector's oldest generation, which walks every one of them, runs
again and again as the replay allocates; measured on 100,000 accounts x 8 quarters it took
a quarter of the replay's time.  ``fewer_collections`` raises the thresholds for the
duration of a command and restores the caller's after it; reference counting still frees
every object as soon as it is unused, only the search for cycles runs less often.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# (collect the youngest generation after 50,000 net allocations instead of 700, and each
# older one after 20 collections of the one below instead of 10: measured on the replay of
# 100,000 accounts x 8 quarters, 65 s -> 48 s, the same peak memory)
THRESHOLDS = (50_000, 20, 20)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The collector at ``THRESHOLDS`` inside the block (never lower than the caller's),
    the caller's thresholds again after it, however the block ends."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(THRESHOLDS, before)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
