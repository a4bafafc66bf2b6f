"""Tuning of the C allocator for a long-running server process.

Two glibc defaults keep memory that a dropped org, a reset or an overwritten file gave back:

- the mmap threshold slides up (to 32 MB) each time a large block is freed, so after the first
  20 MB upload is freed later ones come from the heaps, which keep their pages; a fixed threshold
  keeps every large block (file bytes, upload parts, request bodies) in its own mapping,
  returned the moment it is freed;
- every worker thread gets an arena of its own (up to 8 per core), each keeping its high-water
  pages. Python allocates with the GIL held, so more arenas buy no concurrency here; two are
  enough for the threads that allocate without it.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's ``mallopt`` parameters.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: Blocks of this size and larger get their own mapping.
MMAP_THRESHOLD = 1024 * 1024
ARENA_MAX = 2


def return_large_blocks() -> bool:
    """Map large blocks on their own and share two arenas; True if the allocator took both.

    Only glibc has ``mallopt``; elsewhere this changes nothing.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    threshold = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    arenas = mallopt(_M_ARENA_MAX, ARENA_MAX)
    return bool(threshold and arenas)
