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
from typing import Any

from .errors import ValidationError

#: The last instant a timestamp can be written for (9999-12-31T23:59:59.999Z); the first is 1970.
MAX_EPOCH = 253_402_300_799.999


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
        now = round((frozen if frozen is not None else time.time()) + self._offset, 3)
        # A running clock advanced to just before the end stops there rather than run past it.
        return min(now, MAX_EPOCH)

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
        try:
            seconds = float(seconds)
        except OverflowError:  # an int too large for a float is far outside the range anyway
            raise ValidationError(
                "the clock must stay between 1970 and the end of year 9999"
            ) from None
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


def parse_instant(value: Any, what: str = "at") -> float:
    """Epoch seconds from epoch seconds or an ISO-8601 timestamp (``Z`` allowed; without an
    offset it is UTC, as the API writes every timestamp), between 1970 and the end of 9999."""
    problem = ValidationError(f"{what} must be epoch seconds or an ISO-8601 timestamp")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            seconds = moment.timestamp()
        except (ValueError, OverflowError):
            raise problem from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
    else:
        raise problem
    # A negated range test, so that NaN fails it too.
    if not 0 <= seconds <= MAX_EPOCH:
        raise ValidationError(f"{what} must be between 1970 and the end of year 9999 (UTC)")
    return round(seconds, 3)


def isoformat(epoch_seconds: float) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, as the API writes ``createdAt``."""
    # Listings format two timestamps per item, so this is hot: the whole seconds go through a
    # small cache (files made by one test or one seed share their seconds). Rounded to the
    # millisecond, the precision every stored instant has, so a float just below ``.999``
    # (at 2.5e11 seconds a float is only 30 µs precise) is still written ``.999``.
    whole = math.floor(epoch_seconds)
    millis = round((epoch_seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    return f"{_utc_second(whole)}.{millis:03d}Z"


@functools.lru_cache(maxsize=4096)
def _utc_second(epoch_seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds))
