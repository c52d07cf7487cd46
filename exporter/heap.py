"""The garbage collector's settings once the start-up state is in (run once, process-wide).

At a thousand chargers the store holds a few hundred thousand tracked objects (readings,
snapshots, metric caches). Two things kept the collector's pauses long (``bench/scrape.py``):

* full collections walk every tracked object: up to 200 ms on a 2-core machine. What is
  alive once the state is in mostly lives as long as the process, so it is frozen
  (``gc.freeze``) and never walked again;
* the readings that keep coming are copied on write (one dict of some 180 readings per
  charger and scrape, see :mod:`exporter.state`), and with the default young threshold
  (700 allocations) every tenth young collection promotes enough of them that CPython runs
  a full collection over all that is not frozen every few seconds, 30-60 ms each. A higher
  young threshold makes young collections rarer and a little longer, and full ones rare.
"""

from __future__ import annotations

import gc

#: Allocations between two young collections (CPython's default: 700).
YOUNG_THRESHOLD = 5_000


def settle() -> int:
    """Collect, freeze what is alive, raise the young threshold; the number frozen."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return gc.get_freeze_count()
