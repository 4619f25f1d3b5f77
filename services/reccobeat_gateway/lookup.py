"""Tracks and audio features by ID, in bulk: cache first, then ≤40-ID upstream batches in parallel.

Per ID: a cached row or a recent "absent" marker answers without any upstream call. The rest is
chunked by 40 and fetched concurrently (the client bounds calls in flight). A row answers the
requested ID it matches — a Spotify ID through the row's href, a ReccoBeats UUID through its id.
A chunk that fails after retries costs only its own IDs: they are reported neither found nor
missing (we do not know), with a warning. Only when nothing at all can be answered does the
upstream error become the call's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from segue.v1 import common_pb2, reccobeat_gateway_pb2

from services.common.cache import Cache
from services.common.errors import SegueError
from services.reccobeat_gateway.absent import AbsentIds
from services.reccobeat_gateway.client import MAX_IDS_PER_CALL
from services.reccobeat_gateway.metrics import GatewayMetrics
from services.reccobeat_gateway.outcomes import failure_warning
from services.reccobeat_gateway.validation import clean_ids

Row = TypeVar("Row", common_pb2.Track, reccobeat_gateway_pb2.TrackFeatures)


@dataclass
class LookupResult(Generic[Row]):
    found: dict[str, Row] = field(default_factory=dict)  # requested ID (as written) → row, in request order
    missing: list[str] = field(default_factory=list)  # IDs ReccoBeats does not have
    cache: common_pb2.CacheUsage = field(default_factory=common_pb2.CacheUsage)
    warnings: list[common_pb2.Warning] = field(default_factory=list)


def chunks(items: Sequence[str], size: int = MAX_IDS_PER_CALL) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def row_ids(row: Row) -> list[str]:
    """Every ID a row answers to: its ReccoBeats UUID and the Spotify ID from its href."""
    return [i for i in (row.reccobeats_id, row.spotify_id) if i]


def match_rows(requested: Iterable[str], rows: Iterable[Row]) -> dict[str, Row]:
    by_id: dict[str, Row] = {}
    for row in rows:
        for i in row_ids(row):
            by_id.setdefault(i, row)
    return {i: by_id[i] for i in requested if i in by_id}


class BatchLookup(Generic[Row]):
    def __init__(
        self,
        kind: str,  # "track" or "features": cache key part and metrics label
        message: type[Row],
        fetch: Callable[[Sequence[str]], Awaitable[list[Row]]],  # one upstream call for ≤40 IDs
        *,
        cache: Cache,
        ttl_s: float,
        absent: AbsentIds,
        metrics: GatewayMetrics,
    ) -> None:
        self._kind = kind
        self._message: type[Row] = message
        self._fetch: Callable[[Sequence[str]], Awaitable[list[Row]]] = fetch
        self._cache = cache
        self._ttl_s = ttl_s
        self._absent = absent
        self._metrics = metrics

    async def get(self, ids: Iterable[str]) -> LookupResult[Row]:
        requested = clean_ids(ids, "ids")  # normalised → as written
        wanted = list(requested)
        result: LookupResult[Row] = LookupResult()
        by_id: dict[str, Row] = {}
        absent: set[str] = set()

        cached = await self._cache.get_messages([self._key(i) for i in wanted], self._message)
        by_id.update((i, row) for i, row in zip(wanted, cached, strict=True) if row is not None)
        misses = [i for i in wanted if i not in by_id]
        absent |= await self._absent.known_absent(self._kind, misses)
        to_fetch = [i for i in misses if i not in absent]
        result.cache = common_pb2.CacheUsage(hits=len(wanted) - len(to_fetch), misses=len(to_fetch))
        self._count("cached", result.cache.hits)

        batches = chunks(to_fetch)
        answers = await asyncio.gather(*(self._fetch_batch(batch) for batch in batches))
        failures: list[SegueError] = []
        fetched: dict[str, Row] = {}
        newly_absent: list[str] = []
        for batch, answer in zip(batches, answers, strict=True):
            if isinstance(answer, SegueError):
                failures.append(answer)
                result.warnings.append(
                    failure_warning(answer, f"{len(batch)} {self._kind} ID(s) could not be looked up")
                )
                continue
            matched = match_rows(batch, answer)
            fetched.update(matched)
            newly_absent.extend(i for i in batch if i not in matched)

        if failures and len(failures) == len(batches) and result.cache.hits == 0:
            raise failures[0]  # nothing to return: the caller should see the upstream's state
        self._count("found", len(fetched))
        self._count("missing", len(newly_absent))
        await self._remember(fetched, newly_absent)

        by_id.update(fetched)
        absent.update(newly_absent)
        for i, as_written in requested.items():
            if i in by_id:
                result.found[as_written] = by_id[i]
            elif i in absent:
                result.missing.append(as_written)
        return result

    async def _fetch_batch(self, batch: Sequence[str]) -> list[Row] | SegueError:
        try:
            return await self._fetch(batch)
        except SegueError as exc:
            return exc

    async def remember(self, rows: Sequence[Row]) -> None:
        """Cache rows learnt elsewhere (e.g. recommendations carry whole tracks) under every ID they answer to."""
        items = {self._key(i): row.SerializeToString() for row in rows for i in row_ids(row)}
        if items:
            await self._cache.set_many(items, self._ttl_s)

    async def _remember(self, fetched: dict[str, Row], absent: Sequence[str]) -> None:
        # Under every ID a row answers to, so a later lookup by the other kind of ID is a hit too.
        await self.remember(list(fetched.values()))
        await self._absent.mark_absent(self._kind, absent)

    def _key(self, normalized_id: str) -> str:
        return self._cache.key(self._kind, normalized_id)

    def _count(self, result: str, n: int) -> None:
        if n:
            self._metrics.ids.labels(self._kind, result).inc(n)
