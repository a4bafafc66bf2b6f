"""Filtering, sorting and paging of listings (``listFiles`` and ``getPresets``).

Every order ends with the entry's creation sequence number, so it is total: walking the pages of
an unchanged listing never repeats or skips an item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ValidationError

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    current: int
    item_total: int
    has_next: bool


def parse_sort(raw: str, allowed: Iterable[str]) -> SortKey:
    """``-key`` and ``key-`` both mean descending (docs say suffix, usage says prefix)."""
    text = raw.strip()
    descending = False
    if text.startswith("-"):
        descending, text = True, text[1:]
    elif text.endswith("-"):
        descending, text = True, text[:-1]
    elif text.startswith("+"):
        text = text[1:]
    allowed = tuple(allowed)
    if text not in allowed:
        raise ValidationError(f"cannot sort by {raw!r}; sort keys are {', '.join(allowed)}")
    return SortKey(text, descending)


def check_paging(page_no: int | None, page_size: int | None) -> tuple[int, int]:
    page_no = 1 if page_no is None else page_no
    page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if page_no < 1:
        raise ValidationError("pageNo must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"pageSize must be between 1 and {MAX_PAGE_SIZE}")
    return page_no, page_size


def sort_entries(
    entries: Iterable[T],
    keys: Sequence[SortKey],
    value_of: Callable[[T, str], Any],
    seq_of: Callable[[T], int],
) -> list[T]:
    """Stable multi-key sort; missing values (``None``) sort after present ones."""
    ordered = sorted(entries, key=seq_of)
    for key in reversed(keys):
        present = [e for e in ordered if value_of(e, key.field) is not None]
        missing = [e for e in ordered if value_of(e, key.field) is None]
        present.sort(key=lambda e: value_of(e, key.field), reverse=key.descending)
        ordered = present + missing
    return ordered


def paginate(ordered: Sequence[T], page_no: int, page_size: int) -> Page:
    start = (page_no - 1) * page_size
    items = list(ordered[start : start + page_size])
    return Page(items, page_no, len(ordered), start + page_size < len(ordered))
