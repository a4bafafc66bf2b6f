"""Identifiers and random name parts, from one seedable generator.

A fixed seed makes ids, generated names and suffixes repeat from run to run, which keeps
snapshots and failure reports reproducible.
"""

from __future__ import annotations

import random
import string
import threading
import uuid

_ALPHANUMERIC = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def uuid(self) -> str:
        with self._lock:
            bits = self._random.getrandbits(128)
        return str(uuid.UUID(int=bits, version=4))

    def token(self, length: int) -> str:
        """``length`` characters of ``[A-Za-z0-9]`` (the alphabet of Pixelbin's generated names)."""
        with self._lock:
            return "".join(self._random.choice(_ALPHANUMERIC) for _ in range(length))

    def hex(self, length: int) -> str:
        with self._lock:
            return f"{self._random.getrandbits(4 * length):0{length}x}"
