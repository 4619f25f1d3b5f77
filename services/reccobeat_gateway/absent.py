"""IDs ReccoBeats said it does not have, remembered so a repeat costs no upstream call.

`AbsentIds` is the seam for the later bloom filter of absent IDs; the first version keeps one
short-lived cache marker per ID (an ID missing today may be added upstream later).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from services.common.cache import Cache

_MARKER = b"1"


class AbsentIds(Protocol):
    async def known_absent(self, kind: str, ids: Sequence[str]) -> set[str]:
        """The subset of `ids` recently found absent for `kind` ("track", "features")."""

    async def mark_absent(self, kind: str, ids: Sequence[str]) -> None: ...


class CachedAbsentIds:
    def __init__(self, cache: Cache, ttl_s: float) -> None:
        self._cache = cache
        self._ttl_s = ttl_s

    async def known_absent(self, kind: str, ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        values = await self._cache.get_many([self._cache.key(kind, i) for i in ids])
        return {i for i, value in zip(ids, values, strict=True) if value is not None}

    async def mark_absent(self, kind: str, ids: Sequence[str]) -> None:
        if ids:
            await self._cache.set_many({self._cache.key(kind, i): _MARKER for i in ids}, self._ttl_s)
