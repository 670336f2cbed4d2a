"""Building many small objects at once, without the cyclic garbage collector in the way."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects: it would
    otherwise walk every live object again and again (reference counting still frees).
    Afterwards every object goes straight to the oldest generation (freeze, unfreeze)
    instead of being walked once more as young."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
