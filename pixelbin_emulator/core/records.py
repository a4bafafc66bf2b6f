"""The stored entities of an org's asset tree: folders and files.

Records use ``__slots__`` and epoch-second floats instead of ``datetime`` objects: an emulator
may hold hundreds of thousands of them, and each one's metadata should stay near 1 KB.

Records are frozen: a change stores a new record (``dataclasses.replace``) in place of the old,
so a reader that took one under the org lock can serialize it later, and a change sink can keep
it, without seeing half of an update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .names import join

ACCESS_VALUES = ("public-read", "private")
DEFAULT_ACCESS = "public-read"


@dataclass(frozen=True, slots=True, eq=False)
class Folder:
    id: str
    name: str
    path: str
    created_at: float
    updated_at: float
    seq: int
    is_active: bool = True

    type = "folder"

    @property
    def full_path(self) -> str:
        return join(self.path, self.name)


@dataclass(frozen=True, slots=True, eq=False)
class File:
    id: str
    name: str
    path: str
    data: bytes
    format: str
    asset_type: str
    content_type: str
    width: int | None
    height: int | None
    etag: str
    created_at: float
    updated_at: float
    seq: int
    access: str = DEFAULT_ACCESS
    is_active: bool = True
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    extension: str = ""

    type = "file"

    @property
    def file_id(self) -> str:
        return join(self.path, self.name)

    @property
    def size(self) -> int:
        return len(self.data)


Entry = Folder | File
