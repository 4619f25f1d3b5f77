"""Audio features and artists by ID, in bulk: cache first, then the absent-ID registry, then shared batches.

Per ID: a cached row or a known-absent mark answers without any upstream call (and takes no
rate-limit token). The rest goes to a micro-batcher shared by every concurrent call of this
process (services/common/batching.py): IDs asked for by concurrent RPCs within a few milliseconds
share ≤40-ID upstream calls, and an ID already on its way upstream is joined, not asked again. A
row answers the requested ID it matches — a Spotify ID through the row's href, a ReccoBeats UUID
through its id. Each batch's answer is cached (rows) and registered (IDs left out) once, whoever
asked. A batch that fails after retries costs only the IDs in it: their callers report them neither
found nor missing (we do not know), with a warning. Only when nothing at all can be answered does
the upstream error become the call's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from segue.v1 import common_pb2, reccobeat_gateway_pb2

from services.common.batching import MicroBatcher
from services.common.cache import Cache
from services.common.degradation import RECCOBEATS, degraded
from services.common.errors import SegueError
from services.common.metrics import WorkSharingMetrics
from services.reccobeat_gateway.absent import AbsentIds
from services.reccobeat_gateway.client import MAX_IDS_PER_CALL
from services.reccobeat_gateway.metrics import GatewayMetrics
from services.reccobeat_gateway.validation import MAX_IDS_PER_REQUEST, clean_ids

Row = TypeVar("Row", common_pb2.Track, reccobeat_gateway_pb2.TrackFeatures, common_pb2.Artist)


@dataclass
class LookupResult(Generic[Row]):
    found: dict[str, Row] = field(default_factory=dict)  # requested ID (as written) → row, in request order
    missing: list[str] = field(default_factory=list)  # IDs ReccoBeats does not have
    cache: common_pb2.CacheUsage = field(default_factory=common_pb2.CacheUsage)
    warnings: list[common_pb2.Warning] = field(default_factory=list)


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
        kind: str,  # "features" or "artist": cache key part and metrics label
        message: type[Row],
        fetch: Callable[[Sequence[str]], Awaitable[list[Row]]],  # one upstream call for ≤40 IDs
        *,
        cache: Cache,
        ttl_s: float,
        absent: AbsentIds,
        metrics: GatewayMetrics,
        window_s: float = 0.005,
        slots: asyncio.Semaphore | None = None,  # upstream calls in flight, shared by the lookups of one upstream
        sharing: WorkSharingMetrics | None = None,
        max_ids: int = MAX_IDS_PER_REQUEST,
    ) -> None:
        self._kind = kind
        self._message: type[Row] = message
        self._fetch: Callable[[Sequence[str]], Awaitable[list[Row]]] = fetch
        self._cache = cache
        self._ttl_s = ttl_s
        self._absent = absent
        self._metrics = metrics
        self._max_ids = max_ids
        self._batcher: MicroBatcher[str, Row] = MicroBatcher(
            f"reccobeats-{kind}",
            self._fetch_batch,
            max_size=MAX_IDS_PER_CALL,
            window_s=window_s,
            slots=slots,
            metrics=sharing,
        )

    async def aclose(self) -> None:
        await self._batcher.aclose()

    async def get(self, ids: Sequence[str]) -> LookupResult[Row]:
        requested = clean_ids(ids, "ids", max_count=self._max_ids)  # normalised → as written
        wanted = list(requested)
        result: LookupResult[Row] = LookupResult()

        cached = await self._cache.get_messages([self._key(i) for i in wanted], self._message)
        by_id: dict[str, Row] = {i: row for i, row in zip(wanted, cached, strict=True) if row is not None}
        misses = [i for i in wanted if i not in by_id]
        known = await self._absent.check(self._kind, misses)
        absent = set(known.absent)
        to_fetch = [i for i in misses if i not in absent]
        result.cache = common_pb2.CacheUsage(hits=len(wanted) - len(to_fetch), misses=len(to_fetch))
        self._count("cached", result.cache.hits)

        failures: dict[int, tuple[SegueError, int]] = {}  # one entry per failed batch (by identity), with our IDs in it
        for i, answer in (await self._batcher.load(to_fetch)).items():
            if isinstance(answer, SegueError):
                _, count = failures.get(id(answer), (answer, 0))
                failures[id(answer)] = (answer, count + 1)
            elif isinstance(answer, BaseException):
                raise answer  # a bug, not an upstream failure
            elif answer is None:
                absent.add(i)
            else:
                by_id[i] = answer
        resurrected = sum(i in by_id for i in known.rechecks)
        if resurrected:  # IDs the registry called absent that ReccoBeats answered after all
            self._metrics.absent_ids.labels(self._kind, "resurrected").inc(resurrected)

        failed = sum(count for _, count in failures.values())
        if failures and failed == len(to_fetch) and result.cache.hits == 0:
            raise next(iter(failures.values()))[0]  # nothing to return: the caller should see the upstream's state
        for exc, count in failures.values():
            result.warnings.append(degraded(exc, RECCOBEATS, f"{count} {self._kind} ID(s) could not be looked up"))
        for i, as_written in requested.items():
            if i in by_id:
                result.found[as_written] = by_id[i]
            elif i in absent:
                result.missing.append(as_written)
        return result

    async def _fetch_batch(self, batch: Sequence[str]) -> dict[str, Row]:
        """One upstream call for a shared batch; its answer is remembered once, for every caller."""
        matched = match_rows(batch, await self._fetch(batch))
        newly_absent = [i for i in batch if i not in matched]
        self._count("found", len(matched))
        self._count("missing", len(newly_absent))
        await self._remember(matched, newly_absent)
        return matched

    async def _remember(self, fetched: dict[str, Row], absent: Sequence[str]) -> None:
        # Under every ID a row answers to, so a later lookup by the other kind of ID is a hit too.
        items = {self._key(i): row.SerializeToString() for row in fetched.values() for i in row_ids(row)}
        if items:
            await self._cache.set_many(items, self._ttl_s)
        await self._absent.mark_absent(self._kind, absent)

    def _key(self, normalized_id: str) -> str:
        return self._cache.key(self._kind, normalized_id)

    def _count(self, result: str, n: int) -> None:
        if n:
            self._metrics.ids.labels(self._kind, result).inc(n)
