"""An org's asset tree: folders and files, their indexes and every operation on them.

Indexes: files by ``_id`` and by ``fileId``, folders by ``_id`` and by full path, and the
children of each folder. Getting one entry is a dict lookup; listing a folder touches only that
folder's children, and the sorted result is cached until the tree changes, so paging through a
large folder costs one sort, not one per page. ``AssetTree.generation`` counts the changes, so
the API layer can reuse what it rendered from the tree until the next one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import json_values, media
from .errors import ConflictError, NotFoundError, UploadConflictError, ValidationError
from .ids import IdFactory
from .listing import Page, SortKey, check_paging, paginate, parse_sort, sort_entries
from .names import clean_name, clean_path, file_extension, join, normalize_path, split_file_id
from .records import ACCESS_VALUES, DEFAULT_ACCESS, Entry, File, Folder

LIST_SORT_KEYS = ("name", "createdAt", "updatedAt", "size", "format", "type", "fileId", "path")
_LIST_CACHE_SIZE = 16
# A listing's cache key: name, path, format, tags, only files, only folders, sort.
_ListKey = tuple[str | None, str, str | None, tuple[str, ...], bool, bool, SortKey | None]
# Either kind of record; a swap keeps the kind.
_E = TypeVar("_E", File, Folder)
MB = 1024 * 1024


class ByteBudget:
    """A thread-safe count of bytes held, against a cap."""

    def __init__(self) -> None:
        # Re-entrant: bytes are also given back from ``__del__``, which may run on any thread.
        self._lock = threading.RLock()
        self.held = 0

    def take(self, amount: int, cap: int) -> bool:
        """Count ``amount`` more bytes (or fewer, when negative); False if that passes ``cap``."""
        with self._lock:
            if amount > 0 and self.held + amount > cap:
                return False
            self.held += amount
            return True

    def give_back(self, amount: int) -> None:
        with self._lock:
            self.held -= amount


@dataclass(frozen=True, slots=True)
class Limits:
    """Upload limits from pixelbin.io/docs/limits, and the emulator's own memory bounds.

    One instance is shared by every org of an emulator, so ``pending_uploads`` counts the parts
    that unfinished signed uploads hold across all of them.
    """

    max_image_bytes: int = 25 * MB
    max_file_bytes: int = 150 * MB
    max_image_side: int = 10_000
    max_image_pixels: int = 40_000_000
    #: Bytes the parts of unfinished signed uploads may hold together (all orgs).
    max_pending_upload_bytes: int = 1024 * MB
    pending_uploads: ByteBudget = field(default_factory=ByteBudget, compare=False, repr=False)


@dataclass(slots=True)
class UploadSpec:
    """What an upload asks for, already parsed from the wire into Python types."""

    data: bytes
    name: str
    path: str = ""
    access: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    overwrite: bool = False
    filename_override: bool = False
    filename: str | None = None
    declared_format: str | None = None
    keep_extension: bool = False


@dataclass(frozen=True, slots=True)
class ListQuery:
    name: str | None = None
    path: str | None = None
    format: str | None = None
    tags: tuple[str, ...] = ()
    only_files: bool = False
    only_folders: bool = False
    page_no: int | None = None
    page_size: int | None = None
    sort: str | None = None


def check_access(access: str | None) -> str:
    if access is None:
        return DEFAULT_ACCESS
    if access not in ACCESS_VALUES:
        raise ValidationError(f"access must be one of: {', '.join(ACCESS_VALUES)}")
    return access


def check_tags_and_metadata(tags: Any, metadata: Any) -> None:
    """Tags are a list of strings, metadata an object; both plain JSON within the bounds of
    :mod:`.json_values` (``None``: not given)."""
    if tags is not None:
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ValidationError("tags must be a list of strings")
        json_values.check(tags, "tags")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise ValidationError("metadata must be an object")
        json_values.check(metadata, "metadata")


def _sort_value(entry: Entry, key: str) -> Any:
    if key == "fileId":
        return entry.file_id if isinstance(entry, File) else entry.full_path
    if key == "createdAt":
        return entry.created_at
    if key == "updatedAt":
        return entry.updated_at
    if key in ("size", "format") and isinstance(entry, Folder):
        return None
    return getattr(entry, key)


def _default_order(entry: Entry) -> tuple[int, str, str]:
    return (0 if isinstance(entry, Folder) else 1, entry.name.lower(), entry.name)


#: What a store reports after each operation: ``(kind, record, removed)`` per record changed.
Report = Callable[[list[tuple[str, Any, bool]]], None]


def ignore_changes(changes: list[tuple[str, Any, bool]]) -> None:
    return None


class AssetTree:
    """Files and folders of one org. Every public method holds the org lock."""

    def __init__(
        self,
        lock: threading.RLock,
        ids: IdFactory,
        now: Callable[[], float],
        limits: Limits | None = None,
        report: Report = ignore_changes,
    ) -> None:
        self._lock = lock
        self._ids = ids
        self._now = now
        self.limits = limits or Limits()
        self._report = report
        self._changes: list[tuple[str, Any, bool]] = []
        self._depth = 0
        self._seq = 0
        self.files_by_id: dict[str, File] = {}
        self.files_by_file_id: dict[str, File] = {}
        self.folders_by_id: dict[str, Folder] = {}
        self.folders_by_path: dict[str, Folder] = {}
        self._children: dict[str, dict[str, Entry]] = {"": {}}
        self._list_cache: OrderedDict[_ListKey, list[Entry]] = OrderedDict()
        #: Bumped (under the lock) by every change of the tree: two reads that see the same
        #: generation see the same entries, in the same state.
        self.generation = 0

    # -- bookkeeping -----------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _changed(self) -> None:
        self._list_cache.clear()
        self.generation += 1

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the lock for one operation and report its changes, as one group, at its end."""
        with self._lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if not self._depth and self._changes:
                    changes, self._changes = self._changes, []
                    self._report(changes)

    def _attach(self, entry: Entry) -> None:
        self._children[entry.path][entry.id] = entry
        if isinstance(entry, File):
            self.files_by_id[entry.id] = entry
            self.files_by_file_id[entry.file_id] = entry
        else:
            self.folders_by_id[entry.id] = entry
            self.folders_by_path[entry.full_path] = entry
            self._children[entry.full_path] = {}
        self._changes.append((entry.type, entry, False))
        self._changed()

    def _detach(self, entry: Entry) -> None:
        del self._children[entry.path][entry.id]
        if isinstance(entry, File):
            del self.files_by_id[entry.id]
            del self.files_by_file_id[entry.file_id]
        else:
            del self.folders_by_id[entry.id]
            del self.folders_by_path[entry.full_path]
            del self._children[entry.full_path]
        self._changes.append((entry.type, entry, True))
        self._changed()

    def _swap(self, old: _E, new: _E) -> None:
        """Put ``new`` where ``old`` is (same ``_id``, path and name).

        Records are replaced, never changed in place, so a reader that took one under the lock
        can serialize it afterwards without seeing half of an update.
        """
        self._children[old.path][old.id] = new
        if isinstance(old, File):
            self.files_by_id[old.id] = new
            self.files_by_file_id[old.file_id] = new
        else:
            self.folders_by_id[old.id] = new
            self.folders_by_path[old.full_path] = new
        self._changes.append((new.type, new, False))
        self._changed()

    def _ensure_folders(self, path: str) -> None:
        """Create every missing folder of ``path`` (which is already clean), root first."""
        if path in self._children:
            return
        parent = ""
        for segment in path.split("/"):
            full = join(parent, segment)
            if full not in self.folders_by_path:
                now = self._now()
                self._attach(Folder(self._ids.uuid(), segment, parent, now, now, self._next_seq()))
            parent = full

    # -- files -----------------------------------------------------------------------------

    def find_file(self, file_id: str) -> File | None:
        with self._lock:
            return self.files_by_file_id.get(file_id)

    def get_file(self, file_id: str) -> File:
        with self._lock:
            try:
                return self.files_by_file_id[file_id]
            except KeyError:
                raise NotFoundError(f"file {file_id!r} not found") from None

    def get_file_by_id(self, _id: str) -> File:
        with self._lock:
            try:
                return self.files_by_id[_id]
            except KeyError:
                raise NotFoundError(f"file with _id {_id!r} not found") from None

    def delivered(self, file: File) -> bool:
        """Whether the CDN serves ``file``: it and every folder above it are active.

        ``isActive: false`` is the soft delete of the docs ("Soft delete it by making isActive
        as false"): the management API still gets, lists, moves and restores the entry (with
        ``isActive: false`` in its answers), delivery stops, for a folder's whole subtree.
        """
        if not file.is_active:
            return False
        with self._lock:
            parent = ""
            for segment in file.path.split("/") if file.path else ():
                parent = join(parent, segment)
                folder = self.folders_by_path.get(parent)
                if folder is None or not folder.is_active:
                    return False
            return True

    def upload(self, spec: UploadSpec) -> File:
        """Store a new file, or replace one (overwrite), by the documented collision rules."""
        path = clean_path(spec.path)
        name = clean_name(spec.name)
        access = check_access(spec.access)
        check_tags_and_metadata(spec.tags, spec.metadata)
        info = media.sniff(spec.data, spec.filename, spec.declared_format)
        self._check_limits(spec.data, info)
        extension = (
            media.normalize_format(spec.declared_format or file_extension(spec.filename or ""))
            or info.format
        )
        # What the upload says about the file, whether it replaces one or makes a new one.
        content: dict[str, Any] = {
            "data": spec.data,
            "format": info.format,
            "asset_type": info.asset_type,
            "content_type": info.content_type,
            "width": info.width,
            "height": info.height,
            "etag": hashlib.md5(spec.data, usedforsecurity=False).hexdigest(),
            "extension": extension,
            "access": access,
            "tags": list(spec.tags),
            "metadata": dict(spec.metadata),
        }
        with self._writing():
            existing = self.files_by_file_id.get(join(path, name))
            if existing is not None and spec.overwrite:
                replacement = dataclasses.replace(
                    existing, **content, is_active=True, updated_at=self._now()
                )
                self._swap(existing, replacement)
                return replacement
            if existing is not None:
                if not spec.filename_override:
                    raise UploadConflictError(
                        f"file {existing.file_id!r} already exists; set overwrite=true to "
                        "replace it or filenameOverride=true to store under a unique name"
                    )
                name = self._unique_name(path, name, spec.keep_extension)
            self._ensure_folders(path)
            now = self._now()
            file = File(
                id=self._ids.uuid(),
                name=name,
                path=path,
                created_at=now,
                updated_at=now,
                seq=self._next_seq(),
                **content,
            )
            self._attach(file)
            return file

    def _unique_name(self, path: str, name: str, keep_extension: bool) -> str:
        """``name-XXXX-XXXX`` (the shape seen in the JS SDK's test data), before any extension."""
        stem, dot, ext = name.rpartition(".") if keep_extension and "." in name else (name, "", "")
        while True:
            candidate = f"{stem}-{self._ids.token(4)}-{self._ids.token(4)}{dot}{ext}"
            if join(path, candidate) not in self.files_by_file_id:
                return candidate

    def _check_limits(self, data: bytes, info: media.MediaInfo) -> None:
        limits = self.limits
        if info.asset_type == "image":
            if len(data) > limits.max_image_bytes:
                raise ValidationError(f"images may be at most {limits.max_image_bytes // MB} MB")
            width, height = info.width or 0, info.height or 0
            if max(width, height) > limits.max_image_side:
                raise ValidationError(f"images may be at most {limits.max_image_side} px on a side")
            if width * height > limits.max_image_pixels:
                raise ValidationError(
                    f"images may have at most {limits.max_image_pixels // 1_000_000} megapixels"
                )
        elif len(data) > limits.max_file_bytes:
            raise ValidationError(f"files may be at most {limits.max_file_bytes // MB} MB")

    def update_file(
        self,
        file_id: str,
        *,
        name: str | None = None,
        path: str | None = None,
        access: str | None = None,
        is_active: bool | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> File:
        """Change a file's attributes; a new name or path moves it (conflicts are errors)."""
        new_name = clean_name(name) if name is not None else None
        new_path = clean_path(path) if path is not None else None
        if access is not None:
            check_access(access)
        check_tags_and_metadata(tags, metadata)
        with self._writing():
            file = self.get_file(file_id)
            target_path = file.path if new_path is None else new_path
            target_name = file.name if new_name is None else new_name
            moving = (target_path, target_name) != (file.path, file.name)
            if moving and join(target_path, target_name) in self.files_by_file_id:
                raise ConflictError(f"file {join(target_path, target_name)!r} already exists")
            changes: dict[str, Any] = {"path": target_path, "name": target_name}
            if access is not None:
                changes["access"] = access
            if is_active is not None:
                changes["is_active"] = is_active
            if tags is not None:
                changes["tags"] = list(tags)
            if metadata is not None:
                changes["metadata"] = dict(metadata)
            updated = dataclasses.replace(file, updated_at=self._now(), **changes)
            if moving:
                self._detach(file)
                self._ensure_folders(target_path)
                self._attach(updated)
            else:
                self._swap(file, updated)
            return updated

    def delete_file(self, file_id: str) -> File:
        with self._writing():
            file = self.get_file(file_id)
            self._detach(file)
            return file

    def delete_files(self, ids: list[str]) -> list[File]:
        """Delete every file whose ``_id`` is listed; unknown ids are skipped."""
        with self._writing():
            deleted = []
            for _id in dict.fromkeys(ids):
                file = self.files_by_id.get(_id)
                if file is not None:
                    self._detach(file)
                    deleted.append(file)
            return deleted

    # -- folders ---------------------------------------------------------------------------

    def create_folder(self, name: str, path: str = "") -> Folder:
        clean = clean_name(name)
        parent = clean_path(path)
        with self._writing():
            full = join(parent, clean)
            if full in self.folders_by_path:
                raise ConflictError(f"folder {full!r} already exists")
            if parent:
                self._ensure_folders(parent)
            now = self._now()
            folder = Folder(self._ids.uuid(), clean, parent, now, now, self._next_seq())
            self._attach(folder)
            return folder

    def get_folder(self, path: str, name: str) -> Folder:
        full = join(normalize_path(path), name)
        with self._lock:
            try:
                return self.folders_by_path[full]
            except KeyError:
                raise NotFoundError(f"folder {full!r} not found") from None

    def get_folder_by_id(self, _id: str) -> Folder:
        with self._lock:
            try:
                return self.folders_by_id[_id]
            except KeyError:
                raise NotFoundError(f"folder with _id {_id!r} not found") from None

    def update_folder(self, folder_id: str, *, is_active: bool | None = None) -> Folder:
        """Only ``isActive`` can change: the API does not rename or move folders."""
        path, name = split_file_id(normalize_path(folder_id, field="folderId"))
        with self._writing():
            folder = self.get_folder(path, name)
            active = folder.is_active if is_active is None else is_active
            updated = dataclasses.replace(folder, updated_at=self._now(), is_active=active)
            self._swap(folder, updated)
            return updated

    def delete_folder(self, _id: str) -> Folder:
        """Delete the folder and everything below it."""
        with self._writing():
            folder = self.get_folder_by_id(_id)
            for entry in reversed(list(self._walk(folder.full_path))):
                self._detach(entry)
            self._detach(folder)
            return folder

    def ancestors(self, _id: str) -> tuple[Folder, list[Folder]]:
        """The folder and its ancestors, root first."""
        with self._lock:
            folder = self.get_folder_by_id(_id)
            chain, parent = [], ""
            for segment in folder.path.split("/") if folder.path else []:
                parent = join(parent, segment)
                chain.append(self.folders_by_path[parent])
            return folder, chain

    def _walk(self, path: str) -> Iterator[Entry]:
        """Every entry below ``path``, parents before their children."""
        stack = [path]
        while stack:
            for entry in self._children[stack.pop()].values():
                yield entry
                if isinstance(entry, Folder):
                    stack.append(entry.full_path)

    # -- listing ---------------------------------------------------------------------------

    def listing(self, query: ListQuery) -> Page:
        page_no, page_size = check_paging(query.page_no, query.page_size)
        sort = parse_sort(query.sort, LIST_SORT_KEYS) if query.sort else None
        path = normalize_path(query.path or "")
        fmt = media.normalize_format(query.format) if query.format else None
        with self._lock:
            key = (query.name, path, fmt, query.tags, query.only_files, query.only_folders, sort)
            ordered = self._list_cache.get(key)
            if ordered is None:
                ordered = self._matching(query, path, fmt, sort)
                self._list_cache[key] = ordered
                if len(self._list_cache) > _LIST_CACHE_SIZE:
                    self._list_cache.popitem(last=False)
            else:
                self._list_cache.move_to_end(key)
            return paginate(ordered, page_no, page_size)

    def _matching(
        self, query: ListQuery, path: str, fmt: str | None, sort: SortKey | None
    ) -> list[Entry]:
        if path and path not in self._children:
            return []
        candidates: Iterator[Entry]
        if query.name:
            needle = query.name.lower()
            candidates = (e for e in self._walk(path) if needle in e.name.lower())
        else:
            candidates = iter(self._children[path].values())
        wanted_tags = set(query.tags)

        def keep(entry: Entry) -> bool:
            if isinstance(entry, Folder):
                return not (query.only_files or fmt or wanted_tags)
            if query.only_folders:
                return False
            if fmt and entry.format != fmt:
                return False
            return not wanted_tags or not wanted_tags.isdisjoint(entry.tags)

        selected = [e for e in candidates if keep(e)]
        if sort is None:
            selected.sort(key=lambda e: (_default_order(e), e.seq))
            return selected
        return sort_entries(selected, [sort], _sort_value, lambda e: e.seq)

    # -- whole tree --------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every folder and file, parents before children (the order a snapshot needs)."""
        with self._lock:
            return list(self._walk(""))

    def restore(self, entry: Entry) -> Entry:
        """Put a record back exactly as a snapshot holds it (ids, timestamps, sequence); the
        record stored, which has the next sequence number if ``entry`` has none (``seq`` 0).

        Parents must be restored before their children, as :meth:`entries` yields them.
        """
        if isinstance(entry, File):
            check_tags_and_metadata(entry.tags, entry.metadata)
        if clean_name(entry.name) != entry.name or clean_path(entry.path) != entry.path:
            raise ValidationError(
                f"{entry.type} {join(entry.path, entry.name)!r} is not a valid name and path"
            )
        with self._writing():
            if entry.path and entry.path not in self.folders_by_path:
                raise ValidationError(
                    f"{entry.type} {entry.name!r}: folder {entry.path!r} is missing"
                )
            if entry.id in self.files_by_id or entry.id in self.folders_by_id:
                raise ConflictError(f"_id {entry.id!r} appears twice")
            taken = self.files_by_file_id if isinstance(entry, File) else self.folders_by_path
            key = entry.file_id if isinstance(entry, File) else entry.full_path
            if key in taken:
                raise ConflictError(f"{entry.type} {key!r} appears twice")
            if entry.seq > 0:
                self._seq = max(self._seq, entry.seq)
            else:
                entry = dataclasses.replace(entry, seq=self._next_seq())
            self._attach(entry)
            return entry
