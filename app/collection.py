"""How often Python's cyclic garbage collector runs in a Qualiplan process.

A page that weighs many people (the at-risk list, the attendance grid, a
year's certificates) makes tens of thousands of small objects; at Python's
default (a young-generation collection every 700 allocations) the collector
ran so often that it took half of such a request's time, most of it
walking the long-lived objects of the app itself. Collecting the young
generation every 50,000 allocations keeps that to a few runs per request;
reference counting still frees almost everything at once, and what waits
for the collector is little memory.
"""

from __future__ import annotations

import gc

YOUNG = 50_000


def tune() -> None:
    """Raise the young generation's threshold, once per process (the older
    generations keep their own)."""
    young, middle, old = gc.get_threshold()
    if young < YOUNG:
        gc.set_threshold(YOUNG, middle, old)
