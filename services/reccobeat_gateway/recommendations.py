"""Recommendations around seeds: guardrails, one cached upstream call, the seeds filtered out.

A 400 that gets past the guardrails is retried once without negative seeds, the usual culprit;
the answer is cached under the balanced request, so a repeat never pays for the 400 again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from segue.v1 import common_pb2, reccobeat_gateway_pb2

from services.common.cache import Cache, digest, lookup_usage
from services.common.degradation import RECCOBEATS, fallback_used
from services.common.errors import UpstreamRejected
from services.common.singleflight import SingleFlight, cached_once
from services.reccobeat_gateway.client import ReccoBeatsClient, RecommendationQuery
from services.reccobeat_gateway.guardrails import (
    MAX_SIZE,
    balance_seeds,
    check_size,
    target_params,
)
from services.reccobeat_gateway.lookup import row_ids

# The cached form of an upstream answer: tracks, the negatives finally sent, and fallback warnings.
Answer = reccobeat_gateway_pb2.GetRecommendationsResponse


@dataclass(frozen=True)
class Recommendations:
    tracks: list[common_pb2.Track]
    seeds_used: tuple[str, ...]
    negative_seeds_used: tuple[str, ...]
    cache: common_pb2.CacheUsage
    warnings: list[common_pb2.Warning]


class Recommender:
    def __init__(
        self,
        client: ReccoBeatsClient,
        cache: Cache,
        ttl_s: float,
        flights: SingleFlight[str, Answer] | None = None,
    ) -> None:
        self._client = client
        self._cache = cache
        self._ttl_s = ttl_s
        self._flights: SingleFlight[str, Answer] = flights or SingleFlight("reccobeats-recommendation")

    async def recommend(
        self,
        seeds: Sequence[str],
        negative_seeds: Sequence[str],
        size: int,
        targets: Sequence[common_pb2.FeatureTarget],
    ) -> Recommendations:
        balanced = balance_seeds(seeds, negative_seeds)
        size = check_size(size)
        query = RecommendationQuery(
            seeds=tuple(sorted(balanced.seeds)),
            negative_seeds=tuple(sorted(balanced.negative_seeds)),
            # Ask for a few extra: the seeds may come back and are filtered out.
            size=min(MAX_SIZE, size + len(balanced.seeds) + len(balanced.negative_seeds)),
            targets=target_params(targets),
        )
        key = self._cache.key("recommendation", digest(*(f"{k}={v}" for k, v in query.params())))
        # Identical queries in flight together (a burst of users with the same seeds) cost one upstream call.
        answer, hit = await cached_once(
            self._cache, self._flights, key, Answer, self._ttl_s, lambda: self._fetch(query)
        )
        return Recommendations(
            tracks=list(answer.tracks[:size]),
            seeds_used=balanced.seeds,
            negative_seeds_used=tuple(i for i in balanced.negative_seeds if i in answer.negative_seeds_used),
            cache=lookup_usage(hit),
            warnings=[*balanced.warnings, *answer.warnings],
        )

    async def _fetch(self, query: RecommendationQuery) -> Answer:
        answer = Answer(negative_seeds_used=query.negative_seeds)
        try:
            tracks = await self._client.recommendations(query)
        except UpstreamRejected as exc:
            if exc.status != 400 or not query.negative_seeds:
                raise
            answer.ClearField("negative_seeds_used")
            answer.warnings.append(
                fallback_used(
                    RECCOBEATS,
                    f"ReccoBeats refused the seed combination ({exc.message}); retried without negative seeds",
                )
            )
            tracks = await self._client.recommendations(query.without_negatives())
        answer.tracks.extend(exclude(tracks, {*query.seeds, *query.negative_seeds}))
        return answer


def exclude(tracks: Sequence[common_pb2.Track], ids: set[str]) -> list[common_pb2.Track]:
    """Tracks matching none of `ids` by either of their IDs, each track once."""
    kept: list[common_pb2.Track] = []
    seen: set[str] = set()
    for track in tracks:
        own = row_ids(track)
        if seen.isdisjoint(own) and ids.isdisjoint(own):
            kept.append(track)
            seen.update(own)
    return kept
