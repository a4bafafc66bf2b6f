"""Encoded answers of the hot reads (``listFiles``, ``getFileById``, ``getFileByFileId``),
reused until the org's asset tree changes.

Such an answer is a function of the tree's state, of what the request asks (the query string,
or the id in the path) and of the external base its URLs start with, so one rendered for a
request serves every later one asking the same while :attr:`AssetTree.generation` stands. A hit
skips building the item dicts and encoding them, most of what these reads cost. A listing is
keyed by its query string as sent: parsing it is a good part of what a hit would otherwise
cost, and two spellings of one query merely take two entries. A request that fails is never
stored.

Bounded per tree (:data:`MAX_ANSWERS` answers, :data:`MAX_BYTES` in all, none larger than
:data:`MAX_BODY`, no key longer than :data:`MAX_KEY` characters); the trees are held weakly, so
a dropped org takes its answers with it, and an answer holds bytes only, never the records it
was made from.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from ..core.assets import AssetTree

MAX_ANSWERS = 64
MAX_BYTES = 2 * 1024 * 1024
MAX_BODY = 512 * 1024
MAX_KEY = 2048

#: What was asked: the kind of read, then strings (an id, a query string, the external base).
Key = tuple[str, ...]


class _TreeAnswers:
    __slots__ = ("bodies", "generation", "size")

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.bodies: OrderedDict[Key, bytes] = OrderedDict()
        self.size = 0


class RenderedAnswers:
    """Thread-safe; one per process is enough (trees are told apart by identity)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trees: weakref.WeakKeyDictionary[AssetTree, _TreeAnswers] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, tree: AssetTree, generation: int, key: Key) -> bytes | None:
        """The answer stored for ``key`` at ``generation`` of ``tree``, if any."""
        with self._lock:
            answers = self._trees.get(tree)
            if answers is None or answers.generation != generation:
                return None
            body = answers.bodies.get(key)
            if body is not None:
                answers.bodies.move_to_end(key)
            return body

    def put(self, tree: AssetTree, generation: int, key: Key, body: bytes) -> None:
        """Store an answer rendered from ``tree`` as it was at ``generation`` (or later: a
        change that lands while it is rendered only makes it newer than its key says)."""
        if len(body) > MAX_BODY or sum(map(len, key)) > MAX_KEY:
            return
        with self._lock:
            answers = self._trees.get(tree)
            if answers is None or answers.generation < generation:
                answers = self._trees[tree] = _TreeAnswers(generation)
            elif answers.generation > generation:
                return  # rendered from a state the tree has already left
            old = answers.bodies.pop(key, None)
            if old is not None:
                answers.size -= len(old)
            answers.bodies[key] = body
            answers.size += len(body)
            while len(answers.bodies) > MAX_ANSWERS or answers.size > MAX_BYTES:
                _, dropped = answers.bodies.popitem(last=False)
                answers.size -= len(dropped)
