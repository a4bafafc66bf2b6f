"""Durable state for ``--data-dir``: every acknowledged write survives a crash or ``kill -9``.

The directory holds:

- ``state.json``: a compacted state document (the snapshot format of :mod:`.core.snapshot`,
  wrapped with the clock, the next ``orgId`` and the log generation it continues in);
- ``log.NNNNNN``: the changes made since, one frame per operation, appended and ``fdatasync``-ed
  before the request that made them is answered;
- ``blobs/ab/<sha256>``: the bytes of files over :data:`INLINE_MAX` (smaller ones travel inline,
  base64, so a small upload costs one log write rather than a file, its directory and the log);
- ``lock``: held with ``flock`` while a process uses the directory.

Writes are group-committed: the core publishes each operation's records while it still holds
the org's lock (:mod:`.core.changes`), a single committer thread writes whatever has piled up
with one ``fdatasync``, and every answer waits until the changes published before it are on
disk (:meth:`DurableStore.wait`, called by the HTTP layer). Reads wait too, so no answer shows
state that a crash could take back.

A frame is ``length, crc32, JSON``; a torn or corrupt last frame is ignored on replay. Records are
whole records (``put`` or ``del`` by ``_id``), so replaying one twice is harmless: compaction
dumps the live state while new frames already go to the next log, and start-up replays every log
from the generation ``state.json`` names.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import hashlib
import json
import os
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from .core.changes import CLOCK, CREDENTIALS, FILE, FOLDER, ORG, PRESET, Change
from .core.documents import FORMAT as STATE_FORMAT
from .core.documents import VERSION as STATE_VERSION
from .core.documents import (
    CredentialsDocument,
    FileDocument,
    FolderDocument,
    OrgHead,
    PresetDocument,
)
from .core.emulator import Emulator
from .core.errors import EmulatorError
from .core.snapshot import dump_state, import_state

FORMAT = "pixelbin-emulator-data"
VERSION = 1
STATE = "state.json"
LOCK = "lock"
BLOBS = "blobs"
#: Files up to this size are written inline in the log and the state document.
INLINE_MAX = 64 * 1024
#: The log is compacted into ``state.json`` once it is larger than this and than the state.
COMPACT_MIN = 16 * 1024 * 1024
_FRAME = struct.Struct("<II")  # payload length, crc32 of the payload
_CHECKPOINT = object()


class DataDirError(EmulatorError):
    """The data directory cannot be used (in use by another process, unreadable, ...)."""


class DurabilityError(EmulatorError):
    """A change could not be made durable: the write may be lost, so it is not acknowledged."""

    status = 503
    exception = "DurabilityError"


def _log_name(generation: int) -> str:
    return f"log.{generation:06d}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_frames(path: Path) -> tuple[list[Any], int]:
    """The records of a log, up to the first torn or corrupt frame; also the bytes ignored."""
    data = path.read_bytes()
    records, offset = [], 0
    while offset + _FRAME.size <= len(data):
        length, crc = _FRAME.unpack_from(data, offset)
        start, end = offset + _FRAME.size, offset + _FRAME.size + length
        if end > len(data) or zlib.crc32(data[start:end]) != crc:
            break
        try:
            records.append(json.loads(data[start:end]))
        except ValueError:
            break
        offset = end
    return records, len(data) - offset


def _encode(value: Any) -> bytes:
    """Compact JSON, ASCII-escaped: a lone surrogate (JSON bodies may carry one into metadata)
    is written as ``\\ud800`` and read back the same, where UTF-8 could not hold it at all."""
    return json.dumps(value, separators=(",", ":")).encode("ascii")


def frame(records: Any) -> bytes:
    payload = _encode(records)
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


# -- replay ----------------------------------------------------------------------------------------

_KINDS = {FOLDER: "folders", FILE: "files", PRESET: "presets", CREDENTIALS: "credentials"}


class _Model:
    """The state as plain documents, keyed by ``_id``, while logs are replayed over it."""

    def __init__(self, wrapper: dict[str, Any]) -> None:
        self.clock = wrapper.get("clock") or [None, 0.0]
        self.next_org_id = int(wrapper.get("nextOrgId") or 1)
        self.orgs: dict[int, dict[str, Any]] = {}
        for org_doc in wrapper["state"]["orgs"]:
            org = self._new(org_doc)
            for kind, key in _KINDS.items():
                org[kind] = {doc["_id"]: doc for doc in org_doc.get(key, [])}

    def _new(self, head: dict[str, Any]) -> dict[str, Any]:
        org_id = head["orgId"]
        self.next_org_id = max(self.next_org_id, org_id + 1)
        org = self.orgs[org_id] = {"head": dict(head)} | {kind: {} for kind in _KINDS}
        for key in _KINDS.values():
            org["head"].pop(key, None)
        return org

    def apply(self, record: dict[str, Any]) -> None:
        kind, org_id = record["k"], int(record.get("o") or 0)
        if kind == CLOCK:
            self.clock = record["d"]
        elif kind == ORG:
            if record.get("x"):
                self.orgs.pop(org_id, None)
            else:
                self._new(record["d"])
        elif org_id in self.orgs:
            entries = self.orgs[org_id][kind]
            if record.get("x"):
                entries.pop(record["id"], None)
            else:
                entries[record["d"]["_id"]] = record["d"]

    def document(self) -> dict[str, Any]:
        """A state document of the model, parents before children as loading wants them."""
        orgs = []
        for org in self.orgs.values():
            folders = sorted(org[FOLDER].values(), key=_parents_first)
            orgs.append(
                org["head"]
                | {"folders": folders}
                | {
                    key: sorted(org[kind].values(), key=lambda d: d["seq"])
                    for kind, key in _KINDS.items()
                    if kind != FOLDER
                }
            )
        return {"format": STATE_FORMAT, "version": STATE_VERSION, "orgs": orgs}


def _parents_first(folder: dict[str, Any]) -> tuple[int, int]:
    path = folder["path"]
    return (path.count("/") + bool(path), folder["seq"])


# -- the store -------------------------------------------------------------------------------------


_DOCS: dict[str, Callable[[Any], msgspec.Struct]] = {
    ORG: OrgHead.of,
    FILE: FileDocument.of,  # without its bytes: the committer attaches them, not under the lock
    FOLDER: FolderDocument.of,
    PRESET: PresetDocument.of,
    CREDENTIALS: CredentialsDocument.of,
}


class DurableStore:
    """The change sink of an emulator whose state lives in ``path`` (see the module's doc)."""

    def __init__(self, path: Path, emulator: Emulator, lock_fd: int) -> None:
        self.path = path
        self.emulator = emulator
        self._lock_fd = lock_fd
        self._cond = threading.Condition()
        self._pending: list[tuple[int, Any]] = []
        self._published = 0
        self._durable = 0
        self._error: BaseException | None = None
        self._closing = False
        self._generation = 0
        self._log_fd = -1
        self._log_size = 0
        self._state_size = 0
        #: Large files' blob keys by file ``_id``, with the bytes they were computed from.
        self._blob_keys: dict[str, tuple[bytes, str]] = {}
        #: Set by :meth:`open`: what replay found and ignored (torn tail bytes).
        self.recovered: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, name="pixelbin-durable", daemon=True)

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, emulator: Emulator) -> DurableStore:
        """Lock ``path``, load its state into ``emulator`` (or record the emulator's state in a
        new directory), and start following the emulator's changes."""
        path = Path(path)
        try:
            path.mkdir(parents=True, exist_ok=True)
            (path / BLOBS).mkdir(exist_ok=True)
            lock_fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            message = f"cannot use data directory {str(path)!r}: {error.strerror}"
            raise DataDirError(message) from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            holder = os.pread(lock_fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(lock_fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise DataDirError(
                    f"data directory {str(path)!r} is in use by another pixelbin-emulator "
                    f"(pid {holder}); stop it or choose another --data-dir"
                ) from None
            raise DataDirError(f"cannot lock {str(path)!r}: {error.strerror}") from None
        os.ftruncate(lock_fd, 0)
        os.pwrite(lock_fd, f"{os.getpid()}\n".encode(), 0)
        store = cls(path, emulator, lock_fd)
        try:
            if (path / STATE).exists():
                store._replay()
            emulator.attach(store)
            with store._cond:  # nothing else runs yet: compact the replayed logs away
                store._checkpoint()
        except BaseException:
            store._release()
            raise
        store._thread.start()
        return store

    def _replay(self) -> None:
        try:
            wrapper = json.loads((self.path / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DataDirError(f"{self.path / STATE} is unreadable: {error}") from None
        if not isinstance(wrapper, dict) or wrapper.get("format") != FORMAT:
            raise DataDirError(f"{self.path / STATE} is not a pixelbin-emulator data file")
        if wrapper.get("version") != VERSION:
            raise DataDirError(f"{self.path / STATE}: unsupported version {wrapper.get('version')}")
        records = ignored = generation = 0
        try:
            generation = int(wrapper["generation"])
            model = _Model(wrapper)
            while (self.path / _log_name(generation)).exists():
                frames, torn = read_frames(self.path / _log_name(generation))
                for group in frames:
                    for record in group:
                        model.apply(record)
                    records += len(group)
                ignored += torn
                generation += 1
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            message = f"the state in {str(self.path)!r} is damaged: {type(error).__name__} {error}"
            raise DataDirError(message) from None
        self._generation = generation - 1
        self.recovered = {"operations": records, "ignoredBytes": ignored}
        em = self.emulator
        try:
            import_state(em, model.document(), mode="replace", base_dir=self.path)
        except EmulatorError as error:
            message = f"the state in {str(self.path)!r} cannot be loaded: {error.message}"
            raise DataDirError(message) from None
        em.next_org_id = model.next_org_id
        frozen_at, offset = model.clock
        em.clock.restore(frozen_at, offset)

    # -- the sink --------------------------------------------------------------------------

    def publish(self, changes: list[Change]) -> None:
        records = [self._describe(change) for change in changes]
        with self._cond:
            self._published += 1
            self._pending.append((self._published, records))
            self._cond.notify_all()

    def checkpoint(self) -> None:
        with self._cond:
            self._published += 1
            self._pending.append((self._published, _CHECKPOINT))
            self._cond.notify_all()

    def wait(self, timeout: float | None = 60.0) -> None:
        """Return once every change published so far is on disk; raise if it cannot be."""
        target = self._published
        if self._durable >= target and self._error is None:
            return
        with self._cond:
            if not self._cond.wait_for(
                lambda: self._durable >= target or self._error is not None, timeout
            ):
                raise DurabilityError("the data directory did not take the write in time")
            if self._error is not None:
                raise DurabilityError(f"the write could not be made durable: {self._error}")

    def close(self) -> None:
        """Write what is pending, stop the committer and release the directory."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        self._release()

    def _release(self) -> None:
        if self._log_fd >= 0:
            os.close(self._log_fd)
            self._log_fd = -1
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    # -- describing changes (under the caller's lock) --------------------------------------

    @staticmethod
    def _describe(change: Change) -> dict[str, Any]:
        kind, org_id, record = change.kind, change.org_id, change.record
        if kind == CLOCK:
            return {"k": CLOCK, "d": list(record.setting)}
        if change.removed:
            key = "o" if kind == ORG else "id"
            return {"k": kind, "o": org_id, "x": 1} | ({} if kind == ORG else {key: record.id})
        described = {"k": kind, "o": org_id, "d": msgspec.to_builtins(_DOCS[kind](record))}
        return described | {"data": record} if kind == FILE else described

    # -- the committer ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closing)
                batch, self._pending = self._pending, []
                if not batch:
                    return
            try:
                self._commit(batch)
            except Exception as error:  # any failure: no later write is acknowledged
                with self._cond:
                    self._error = error
                    self._cond.notify_all()
                return
            with self._cond:
                self._durable = batch[-1][0]
                self._cond.notify_all()

    def _commit(self, batch: list[tuple[int, Any]]) -> None:
        frames: list[bytes] = []
        new_blob_dirs: set[Path] = set()
        for _seq, records in batch:
            if records is _CHECKPOINT:
                frames = []  # the checkpoint holds their outcome
                self._checkpoint()
                continue
            for record in records:
                file = record.pop("data", None)
                if file is not None:
                    record["d"] |= self._content(file, new_blob_dirs)
                elif record["k"] == FILE and record.get("x"):
                    self._blob_keys.pop(record["id"], None)
            frames.append(frame(records))
        for directory in new_blob_dirs:
            _fsync_dir(directory)
        if frames:
            data = b"".join(frames)
            os.write(self._log_fd, data)
            os.fdatasync(self._log_fd)
            self._log_size += len(data)
        if self._log_size > max(COMPACT_MIN, self._state_size):
            self._checkpoint()

    def _content(self, file: Any, new_blob_dirs: set[Path]) -> dict[str, str]:
        data: bytes = file.data
        if len(data) <= INLINE_MAX:
            return {"base64": base64.b64encode(data).decode("ascii")}
        return {"source": self._blob(self._key(file.id, data), data, new_blob_dirs)}

    def _key(self, file_id: str, data: bytes) -> str:
        """The blob key (SHA-256) of a file's bytes, hashed once per version of the file."""
        cached = self._blob_keys.get(file_id)
        if cached is not None and cached[0] is data:
            return cached[1]
        key = hashlib.sha256(data).hexdigest()
        self._blob_keys[file_id] = (data, key)
        return key

    def _blob(self, key: str, data: bytes, new_blob_dirs: set[Path]) -> str:
        """Write a blob unless it exists; its path relative to the data directory."""
        relative = f"{BLOBS}/{key[:2]}/{key}"
        target = self.path / relative
        if not target.exists():
            if not target.parent.exists():
                target.parent.mkdir()
                new_blob_dirs.add(self.path / BLOBS)
            temporary = target.with_name(key + ".tmp")
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
            new_blob_dirs.add(target.parent)
        return relative

    def _checkpoint(self) -> None:
        """Compact: the live state into ``state.json``, a new log for what follows, and the old
        log and unused blobs removed. Runs on the committer thread (or before it starts)."""
        generation = self._generation + 1
        log_fd = os.open(
            self.path / _log_name(generation), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644
        )
        _fsync_dir(self.path)
        em = self.emulator
        sources: dict[str, bytes] = {}
        with em.holding():  # the orgs, the numbering and the clock of one moment
            next_org_id, clock = em.next_org_id, list(em.clock.setting)
            doc = dump_state(em, blobs=sources)
        keep: set[str] = set()
        new_blob_dirs: set[Path] = set()
        for org_doc in doc["orgs"]:
            for file_entry in org_doc["files"]:
                data = sources[file_entry.pop("source")]
                if len(data) <= INLINE_MAX:
                    file_entry["base64"] = base64.b64encode(data).decode("ascii")
                    continue
                key = self._key(file_entry["_id"], data)
                file_entry["source"] = self._blob(key, data, new_blob_dirs)
                keep.add(key)
        del sources
        for directory in new_blob_dirs:
            _fsync_dir(directory)
        wrapper = {
            "format": FORMAT,
            "version": VERSION,
            "generation": generation,
            "nextOrgId": next_org_id,
            "clock": clock,
            "state": doc,
        }
        text = _encode(wrapper)
        temporary = self.path / (STATE + ".tmp")
        with open(temporary, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path / STATE)
        _fsync_dir(self.path)
        # From here on the new state stands; what it replaced can go.
        if self._log_fd >= 0:
            os.close(self._log_fd)
        self._log_fd, self._log_size, self._state_size = log_fd, 0, len(text)
        for old in self.path.glob("log.*"):
            if old.name < _log_name(generation):
                old.unlink()
        self._generation = generation
        self._blob_keys = {k: v for k, v in self._blob_keys.items() if v[1] in keep}
        for blob in (self.path / BLOBS).glob("*/*"):
            if blob.name not in keep:
                blob.unlink()
