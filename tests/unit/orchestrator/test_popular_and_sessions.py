"""The popular-moods job's choice of moods, and session records (no prompt kept, reuse only when it applies)."""

from __future__ import annotations

from segue.v1 import common_pb2

from services.common.cache import Cache, MemoryStore
from services.orchestrator.popular import RecentPrompts, moods_to_warm
from services.orchestrator.ranking import Candidate
from services.orchestrator.sessions import Session, SessionStore

PROMPT = "Rainy Sunday, slow jazz"


def test_recent_prompts_count_only_within_the_window_and_only_repeats() -> None:
    recent = RecentPrompts(window_s=60)
    for at, prompt in [(0, "old one"), (0, "old one"), (50, "Chill  Beats"), (55, "chill beats"), (56, "once")]:
        recent.add(prompt, now=at)
    assert recent.most_common(5, now=70) == ["chill beats"]  # "old one" left the window; "once" is no trend
    assert recent.most_common(0, now=70) == []


def test_configured_moods_come_first_and_each_mood_is_warmed_once() -> None:
    assert moods_to_warm(["Chill Beats", "workout"], ["chill beats", "sad songs"]) == [
        "Chill Beats",
        "workout",
        "sad songs",
    ]


def mood(*genres: str, energy: float = 0.3) -> common_pb2.MoodProfile:
    return common_pb2.MoodProfile(
        genres=genres,
        targets=[common_pb2.FeatureTarget(feature=common_pb2.AUDIO_FEATURE_ENERGY, target=energy, min=0, max=1)],
    )


def remembered() -> Session:
    session = Session("s1")
    pool = [Candidate(common_pb2.Track(spotify_id="t1"), common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY)]
    session.remember(PROMPT, mood("jazz"), pool, common_pb2.Exclusions(), 0.3, [])
    return session


def test_the_pool_is_reused_when_the_mood_asks_the_catalog_for_the_same_things() -> None:
    session = remembered()
    assert session.pool_for(mood("jazz", energy=0.6)) == [
        Candidate(common_pb2.Track(spotify_id="t1"), common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY)
    ]
    assert session.pool_for(mood("jazz", "soul")) is None, "another genre: gather again"
    assert session.same_prompt("rainy  sunday, SLOW jazz") and not session.same_prompt("same but more upbeat")


async def test_a_saved_session_holds_a_digest_of_the_prompt_never_the_prompt() -> None:
    store = MemoryStore()
    sessions = SessionStore(Cache(store, "orchestrator"), ttl_s=60, repeat_ttl_s=60)
    session = remembered()
    session.serve(["t1"])
    await sessions.save("user-1", session)

    raw = b"".join(v for _, v in store._data.values())
    assert PROMPT.encode() not in raw and PROMPT.casefold().encode() not in raw
    loaded = await sessions.load("user-1", "s1", PROMPT)
    assert loaded.same_prompt(PROMPT) and loaded.served == ["t1"]
    assert (await sessions.load("user-2", "s1", PROMPT)).mood is None, "another user cannot read it"


async def test_a_session_id_that_names_no_session_begins_one_under_that_id() -> None:
    sessions = SessionStore(Cache(MemoryStore(), "orchestrator"), ttl_s=60, repeat_ttl_s=60)
    unknown = await sessions.load("user-1", "gone", PROMPT)
    assert (unknown.session_id, unknown.started, unknown.mood) == ("gone", True, None)
    unknown.remember(PROMPT, common_pb2.MoodProfile(genres=["jazz"]), [], common_pb2.Exclusions(), 0.5, [])
    await sessions.save("user-1", unknown)
    assert not (await sessions.load("user-1", "gone", PROMPT)).started, "now it is known"
    assert (await sessions.load("user-1", "", PROMPT)).started, "no id: a new session"


async def test_a_users_repeat_of_a_prompt_starts_from_that_pass_and_no_one_elses() -> None:
    sessions = SessionStore(Cache(MemoryStore(), "orchestrator"), ttl_s=60, repeat_ttl_s=60)
    first = await sessions.load("user-1", "", PROMPT)
    assert first.new and first.mood is None
    first.remember(
        PROMPT, mood("jazz"), [Candidate(common_pb2.Track(spotify_id="t1"), 1)], common_pb2.Exclusions(), 0.3, []
    )
    first.serve(["t1"])
    await sessions.save("user-1", first)

    repeat = await sessions.load("user-1", "", "  rainy sunday, SLOW jazz ")
    assert repeat.session_id != first.session_id
    assert repeat.mood_for(PROMPT) == mood("jazz") and repeat.pool_for(mood("jazz"))
    assert repeat.served == [], "a repeat is the same playlist again, not a follow-up"
    assert (await sessions.load("user-2", "", PROMPT)).mood is None
    assert (await sessions.load("user-1", "", "another prompt")).mood is None
