"""Which version of a named track the prompt means, when its title alone names several.

The seed gatherer settles what heuristics can (the version by an artist of the mood or one the user plays)
and reports the rest as ambiguous. Those are the request's genuinely ambiguous choices: all of them go to the
LLM in one RunTasks call, never blind — each version shown with its artists, popularity and audio features,
the prompt as context. The best known version stands in meanwhile (the recommendations are asked around it),
and stays when the LLM cannot answer within its budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from segue.v1 import common_pb2, llm_gateway_pb2, seed_gatherer_pb2

_NAMED = common_pb2.TRACK_SOURCE_USER_MENTIONED


def describe(track: common_pb2.Track) -> str:
    """What the LLM sees of a version: "Lazy Season by Amber Avenue (jazz; popularity 41; energy 0.32, …)"."""
    parts = list(dict.fromkeys(g for a in track.artists for g in a.genres))[:3]
    if track.HasField("popularity"):
        parts.append(f"popularity {track.popularity}")
    if track.HasField("audio_features"):
        f = track.audio_features
        parts.append(
            f"energy {f.energy:.2f}, valence {f.valence:.2f}, danceability {f.danceability:.2f}, "
            f"acousticness {f.acousticness:.2f}, tempo {f.tempo:.0f} bpm"
        )
    artists = ", ".join(a.name for a in track.artists) or "unknown artist"
    return f"{track.title} by {artists}" + (f" ({'; '.join(parts)})" if parts else "")


def candidate(track: common_pb2.Track) -> llm_gateway_pb2.Candidate:
    return llm_gateway_pb2.Candidate(id=track.spotify_id, description=describe(track))


def tasks_request(
    prompt: str, ambiguous: Sequence[seed_gatherer_pb2.AmbiguousMention]
) -> llm_gateway_pb2.RunTasksRequest:
    """One choice per ambiguous title, all in one request (one LLM call); task ids are the stand-ins' ids."""
    return llm_gateway_pb2.RunTasksRequest(
        context=prompt,
        tasks=[
            llm_gateway_pb2.LlmTask(
                task_id=m.versions[0].spotify_id,
                choose=llm_gateway_pb2.ChooseCandidatesTask(
                    instruction=(
                        f'The listener named the song "{m.named.title}" without its artist, and {len(m.versions)} '
                        "artists recorded a song of that title. Which version does this request mean?"
                    ),
                    candidates=[candidate(v) for v in m.versions],
                    max_choices=1,
                ),
            )
            for m in ambiguous
        ],
    )


def apply_choices(
    candidates: Iterable[seed_gatherer_pb2.Seed],
    ambiguous: Sequence[seed_gatherer_pb2.AmbiguousMention],
    results: Sequence[llm_gateway_pb2.LlmTaskResult],
) -> int:
    """Put each chosen version (with the features it was shown with) in its stand-in's place among the named
    candidates; how many changed."""
    versions = {v.spotify_id: v for v in versions_of(ambiguous)}
    chosen = {r.task_id: r.choose.chosen_ids[0] for r in results if r.HasField("choose") and r.choose.chosen_ids}
    changed = 0
    for seed in candidates:
        pick = chosen.get(seed.track.spotify_id) if seed.source == _NAMED else None
        if pick is not None and pick in versions:
            changed += pick != seed.track.spotify_id
            seed.track.CopyFrom(versions[pick])
    return changed


def versions_of(ambiguous: Sequence[seed_gatherer_pb2.AmbiguousMention]) -> list[common_pb2.Track]:
    return [v for m in ambiguous for v in m.versions]
