"""Forgiving lookup: what a user typed to one entry of a plan, or a message saying why not."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from bot.errors import InputError
from bot.parsing import quote_input

MAX_SUGGESTIONS = 5


class Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...


_T = TypeVar("_T", bound=Named)


# --- forgiving lookup --------------------------------------------------------------------


def lookup_key(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().casefold())


def compact_key(text: str) -> str:
    return re.sub(r"[^0-9a-z+#]", "", text.casefold())


def title_key(text: str) -> str:
    return " ".join(text.casefold().split())


def aliases_of(entry: Any) -> tuple[str, ...]:
    return tuple(getattr(entry, "aliases", ()))


def describe_entries(entries: Sequence[Named]) -> str:
    shown = [f"{e.id} ({e.title})" for e in entries[:MAX_SUGGESTIONS]]
    more = len(entries) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def unique_entries(entries: Iterable[_T]) -> list[_T]:
    seen: dict[str, _T] = {}
    for e in entries:
        seen.setdefault(e.id, e)
    return list(seen.values())


def find_entry(
    kind: str,
    text: str,
    entries: Sequence[_T],
    *,
    hint: str,
    special: Callable[[str], _T | None] | None = None,
    extra_keys: Callable[[_T], Iterable[str]] | None = None,
    list_known: bool = True,
    list_limit: int = 12,
) -> _T:
    """Resolve what a user typed to one entry: id, alias, special form, title, prefix, substring."""
    raw = text.strip()
    if not raw:
        raise InputError(f"No {kind} given. {hint}")
    shown = quote_input(raw)
    if special is not None and (hit := special(raw)) is not None:
        return hit

    def keys(e: _T) -> tuple[str, ...]:
        extra = tuple(extra_keys(e)) if extra_keys else ()
        return (e.id, *aliases_of(e), *extra)

    key, compact, title = lookup_key(raw), compact_key(raw), title_key(raw)
    stages: list[Callable[[_T], bool]] = [
        lambda e: any(lookup_key(k) == key for k in keys(e)),
        lambda e: bool(compact) and any(compact_key(k) == compact for k in keys(e)),
        lambda e: title_key(e.title) == title,
        lambda e: any(lookup_key(k).startswith(key) for k in keys(e))
        or title_key(e.title).startswith(title),
        lambda e: len(title) >= 3 and title in title_key(e.title),
    ]
    for stage in stages:
        matches = unique_entries(e for e in entries if stage(e))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InputError(
                f"{shown} matches {len(matches)} {kind}s: {describe_entries(matches)}. "
                f"Give the id of the one you mean."
            )
    pool: dict[str, str] = {}
    for e in entries:
        for k in keys(e):
            pool.setdefault(lookup_key(k), e.id)
        pool.setdefault(title_key(e.title), e.id)
    close = [*difflib.get_close_matches(key, list(pool), n=10, cutoff=0.6),
             *difflib.get_close_matches(title, list(pool), n=10, cutoff=0.6)]
    by_id = {e.id: e for e in entries}
    suggested = unique_entries(by_id[pool[c]] for c in close)
    did_you_mean = f" Did you mean {describe_entries(suggested)}?" if suggested else ""
    if not did_you_mean and list_known and 0 < len(entries) <= list_limit:
        did_you_mean = f" Known {kind}s: {', '.join(e.id for e in entries)}."
    raise InputError(f"No {kind} matches {shown}.{did_you_mean} {hint}")


