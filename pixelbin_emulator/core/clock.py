"""The emulator's clock.

Every timestamp and every expiry check reads this clock instead of the system one, so tests can
freeze and advance time without sleeping.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from .errors import ValidationError

#: The last instant a timestamp can be written for (9999-12-31T23:59:59Z); the first is 1970.
MAX_EPOCH = 253_402_300_799.0


class Clock:
    """Wall-clock time with an optional frozen instant and a manual offset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_at: float | None = None
        self._offset = 0.0
        #: Called (under the clock's lock) after every change, e.g. to make it durable.
        self.report: Callable[[Clock], None] = lambda clock: None

    @property
    def setting(self) -> tuple[float | None, float]:
        """``(frozen_at, offset)``: what :meth:`restore` takes back, e.g. after a restart."""
        return self._frozen_at, self._offset

    def restore(self, frozen_at: float | None, offset: float) -> None:
        with self._lock:
            self._frozen_at, self._offset = frozen_at, offset

    def time(self) -> float:
        """Seconds since the epoch, as the emulator sees them, to the millisecond.

        The API writes timestamps with milliseconds; keeping no more precision than that means
        a snapshot (which writes them the same way) holds every timestamp exactly, so sorting by
        ``createdAt``/``updatedAt`` gives the same order after an import.
        """
        frozen = self._frozen_at
        return round((frozen if frozen is not None else time.time()) + self._offset, 3)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def freeze(self, at: float | None = None) -> None:
        """Stop the clock at ``at`` (epoch seconds) or at the current emulated time."""
        with self._lock:
            if at is not None:
                _check_instant(at)
            self._frozen_at = self.time() - self._offset if at is None else at - self._offset
            self.report(self)

    def advance(self, seconds: float) -> None:
        """Move the clock by ``seconds`` (may be negative); refused if it would leave 1970-9999."""
        with self._lock:
            frozen = self._frozen_at
            _check_instant((frozen if frozen is not None else time.time()) + self._offset + seconds)
            self._offset += seconds
            self.report(self)

    def unfreeze(self) -> None:
        """Resume real time, keeping the offset accumulated by :meth:`advance`."""
        with self._lock:
            self._frozen_at = None
            self.report(self)

    def reset(self) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0
            self.report(self)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None


def _check_instant(epoch_seconds: float) -> None:
    # Written as a negated range test so that NaN (which JSON bodies may carry) fails it too.
    if not 0 <= epoch_seconds <= MAX_EPOCH:
        raise ValidationError("the clock must stay between 1970 and the end of year 9999")


def isoformat(epoch_seconds: float) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, as the API writes ``createdAt``."""
    # Listings format two timestamps per item, so this is hot. The fraction is rounded to
    # microseconds half-to-even as ``datetime.fromtimestamp`` rounds it (then truncated to
    # milliseconds), and the whole seconds go through a small cache: files made by one test or
    # one seed share their seconds.
    fraction, whole = math.modf(epoch_seconds)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    return f"{_utc_second(whole)}.{micros // 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _utc_second(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds))
