"""Seeds when the seed gatherer cannot be reached: tracks of the artists the mood names, via ReccoBeats.

The playlist loses the user's taste (no top tracks without the seed gatherer) but still follows the
prompt: the mood's artists — those the prompt names, and those the LLM suggests — are looked up on
ReccoBeats and a few of their tracks seed the recommendations. The answer says so with a warning.
A request whose user Spotify could not confirm is seeded the same way (`mood_artist_seeds`).
"""

from __future__ import annotations

from grpc import aio
from segue.v1 import common_pb2, reccobeat_gateway_pb2, reccobeat_gateway_pb2_grpc, seed_gatherer_pb2

from services.common.degradation import ORCHESTRATOR, fallback_used
from services.common.errors import Unavailable
from services.common.fanout import task_group

MAX_ARTISTS = 3
TRACKS_PER_ARTIST = 5


async def _artist_tracks(
    gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub, name: str, usage: common_pb2.CacheUsage
) -> list[common_pb2.Track]:
    """A few tracks of the best match for `name`; none when ReccoBeats has no such artist or cannot answer."""
    try:
        found = await gateway.SearchArtists(reccobeat_gateway_pb2.SearchArtistsRequest(query=name, size=1))
        if not found.artists or not found.artists[0].reccobeats_id:
            return []
        tracks = await gateway.GetArtistTracks(
            reccobeat_gateway_pb2.GetArtistTracksRequest(
                artist_id=found.artists[0].reccobeats_id, size=TRACKS_PER_ARTIST
            )
        )
    except aio.AioRpcError:
        return []
    for answer in (found, tracks):
        usage.hits += answer.cache.hits
        usage.misses += answer.cache.misses
    return list(tracks.tracks)


async def mood_artist_seeds(
    gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub, mood: common_pb2.MoodProfile, max_seeds: int
) -> seed_gatherer_pb2.GatherSeedsResponse:
    """Seeds (first tracks of each artist, round robin), all of them candidates; none when no artist is found.

    Also the seeds of a request whose user is unverified (services.orchestrator.admission.Unverified), which
    must not reach the seed gatherer: it would ask Spotify whose token this is again.
    """
    usage = common_pb2.CacheUsage()
    names = list(dict.fromkeys(mood.artists))[:MAX_ARTISTS]
    async with task_group() as group:
        looking = [group.create_task(_artist_tracks(gateway, n, usage)) for n in names]
    per_artist = [task.result() for task in looking]
    # Round robin over the artists, so the seeds span all of them.
    depth = max((len(t) for t in per_artist), default=0)
    tracks = [found[i] for i in range(depth) for found in per_artist if i < len(found)]
    source = common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY
    found = [seed_gatherer_pb2.Seed(track=t, score=0.0, source=source) for t in tracks]
    return seed_gatherer_pb2.GatherSeedsResponse(seeds=found[:max_seeds], candidates=found, cache=usage)


async def seeds_from_mood_artists(
    gateway: reccobeat_gateway_pb2_grpc.ReccoBeatGatewayAsyncStub,
    mood: common_pb2.MoodProfile,
    max_seeds: int,
    why: str,
) -> seed_gatherer_pb2.GatherSeedsResponse:
    """The mood's artists' seeds in place of the unreachable seed gatherer, with a warning saying why.

    UNAVAILABLE when no artist yields a track: without seeds no playlist can be made.
    """
    answer = await mood_artist_seeds(gateway, mood, max_seeds)
    if not answer.seeds:
        raise Unavailable(f"seed_gatherer: {why}; and no artist of the mood was found on ReccoBeats to start from")
    answer.warnings.append(
        fallback_used(
            ORCHESTRATOR,
            f"the seed gatherer is unreachable ({why}): seeds come from the mood's artists, not your taste",
        )
    )
    return answer
