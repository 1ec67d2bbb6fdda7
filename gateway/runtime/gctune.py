"""Process-wide tuning for a long-running gateway process (``gateway run``, ``gateway demo``)."""

from __future__ import annotations

import gc

#: Allocations between young collections, and young collections between older ones.
GC_THRESHOLDS = (20_000, 20, 20)


def tune_gc() -> None:
    """Collect once, freeze what start-up built, and run the cyclic collector less often.

    Ingest builds a few short-lived objects per reading (events, tuples, dicts), almost none
    in cycles, so reference counting frees them. With the default thresholds (700, 10, 10)
    the cyclic collector still ran hundreds of times a second under load, and each full pass
    walked everything start-up had left (modules, table metadata, the building, the engine's
    spaces): about a seventh of the ingest path's CPU time (``bench/ingest.py`` and
    ``bench/pipeline.py`` measure it). Frozen objects are never walked again; the collector
    still finds cycles made afterwards, only in larger steps.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
