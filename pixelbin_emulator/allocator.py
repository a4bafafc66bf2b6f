"""Tuning of the C allocator for a long-running server process.

glibc raises its mmap threshold each time a large block is freed (up to 32 MB), so after the
first 20 MB upload is freed later ones come from the heaps of the worker threads' arenas, which
are not given back to the system when the file goes (a dropped org, a reset, an overwritten
file): the server's RSS then only grows. A fixed threshold keeps every large block (file bytes,
upload parts, request bodies) in its own mapping, returned the moment it is freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util

#: glibc's ``M_MMAP_THRESHOLD`` parameter of ``mallopt``.
_M_MMAP_THRESHOLD = -3
#: Blocks of this size and larger get their own mapping.
MMAP_THRESHOLD = 1024 * 1024


def return_large_blocks() -> bool:
    """Make the C allocator map (and unmap) large blocks on their own; True if it could.

    Only glibc has ``mallopt``; elsewhere this changes nothing.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
