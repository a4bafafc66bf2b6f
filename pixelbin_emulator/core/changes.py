"""Where the core reports its changes, so that something outside it can make them durable.

The core does no I/O: each store hands the records it put or removed, one group per operation,
to a :class:`ChangeSink`. By default that is :data:`NO_CHANGES` (the emulator lives in memory);
``--data-dir`` plugs in :class:`pixelbin_emulator.durable.DurableStore`, which writes each group
to its log as one all-or-nothing frame.

A group is published while the org's lock is still held, so groups reach the sink in the order
their changes were made, and a record can be described there without seeing half of a later
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

#: Kinds of record a change may carry.
ORG, FOLDER, FILE, PRESET, CREDENTIALS, CLOCK = (
    "org",
    "folder",
    "file",
    "preset",
    "credentials",
    "clock",
)


@dataclass(frozen=True, slots=True)
class Change:
    """``record`` (a Folder, File, Preset, CredentialSet, Org or Clock) was stored, or removed."""

    kind: str
    org_id: int | None
    record: Any
    removed: bool = False


class ChangeSink(Protocol):
    def publish(self, changes: list[Change]) -> None:
        """One operation's changes, to be made durable together or not at all."""

    def checkpoint(self) -> None:
        """Everything may have changed (reset, snapshot import): record the whole state."""

    def wait(self) -> None:
        """Return once every change published so far is durable (an :class:`EmulatorError`
        if it cannot be): what an answer waits for, so no answer shows a change a crash could
        take back."""


class _NoChanges:
    """The in-memory emulator: changes go nowhere."""

    def publish(self, changes: list[Change]) -> None:
        return None

    def checkpoint(self) -> None:
        return None

    def wait(self) -> None:
        return None


NO_CHANGES: ChangeSink = _NoChanges()
