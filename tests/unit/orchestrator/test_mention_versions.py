"""Asking the LLM which version of a title the prompt means: what it is shown, and what its answer changes."""

from __future__ import annotations

from segue.v1 import common_pb2, llm_gateway_pb2, seed_gatherer_pb2

from services.orchestrator import mention_versions

NAMED = common_pb2.TRACK_SOURCE_USER_MENTIONED


def version(
    spotify_id: str, artist: str, *, genres: tuple[str, ...] = (), energy: float | None = None
) -> common_pb2.Track:
    track = common_pb2.Track(
        spotify_id=spotify_id,
        title="Midnight Stars",
        artists=[common_pb2.Artist(name=artist, genres=genres)],
        popularity=33,
    )
    if energy is not None:
        track.audio_features.CopyFrom(common_pb2.AudioFeatures(energy=energy, valence=0.4, tempo=92.4))
    return track


def ambiguous() -> list[seed_gatherer_pb2.AmbiguousMention]:
    return [
        seed_gatherer_pb2.AmbiguousMention(
            named=common_pb2.MentionedTrack(title="Midnight Stars"),
            versions=[version("jazz", "Ximena Fischer Quartet", energy=0.31), version("blues", "Oscar Doyle")],
        ),
        seed_gatherer_pb2.AmbiguousMention(
            named=common_pb2.MentionedTrack(title="Holy Candle"),
            versions=[version("shoe", "The Salty Dreamers"), version("pop", "Tobias Zeller")],
        ),
    ]


def test_a_version_is_shown_with_its_artists_genres_popularity_and_features() -> None:
    shown = mention_versions.describe(version("jazz", "Ximena Fischer Quartet", genres=("jazz",), energy=0.31))
    assert shown.startswith("Midnight Stars by Ximena Fischer Quartet (jazz; popularity 33; energy 0.31")
    assert "valence 0.40" in shown and "tempo 92 bpm" in shown
    assert mention_versions.describe(common_pb2.Track(title="X")) == "X by unknown artist"


def test_every_ambiguous_title_of_a_request_is_one_choice_of_one_request() -> None:
    request = mention_versions.tasks_request("the blues one", ambiguous())

    assert request.context == "the blues one"
    assert [t.task_id for t in request.tasks] == ["jazz", "shoe"]  # the stand-ins
    first = request.tasks[0].choose
    assert first.max_choices == 1 and '"Midnight Stars"' in first.instruction
    assert [c.id for c in first.candidates] == ["jazz", "blues"]
    assert first.candidates[0].description.startswith("Midnight Stars by Ximena Fischer Quartet")


def chose(task_id: str, *ids: str) -> llm_gateway_pb2.LlmTaskResult:
    return llm_gateway_pb2.LlmTaskResult(task_id=task_id, choose=llm_gateway_pb2.ChooseCandidatesResult(chosen_ids=ids))


def test_the_chosen_version_takes_its_stand_ins_place_among_the_named_tracks_only() -> None:
    stand_in = seed_gatherer_pb2.Seed(track=version("jazz", "Ximena Fischer Quartet"), source=NAMED)
    other_named = seed_gatherer_pb2.Seed(track=version("shoe", "The Salty Dreamers"), source=NAMED)
    not_named = seed_gatherer_pb2.Seed(
        track=version("jazz", "Ximena Fischer Quartet"), source=common_pb2.TRACK_SOURCE_USER_TOP
    )
    candidates = [stand_in, other_named, not_named]

    changed = mention_versions.apply_choices(
        candidates, ambiguous(), [chose("jazz", "blues"), chose("shoe", "not-a-version")]
    )

    assert changed == 1
    assert [c.track.spotify_id for c in candidates] == ["blues", "shoe", "jazz"]
    assert candidates[0].track.artists[0].name == "Oscar Doyle"


def test_an_answer_keeping_the_stand_in_or_choosing_nothing_changes_nothing() -> None:
    candidates = [seed_gatherer_pb2.Seed(track=version("jazz", "Ximena Fischer Quartet"), source=NAMED)]
    assert mention_versions.apply_choices(candidates, ambiguous(), [chose("jazz", "jazz"), chose("shoe")]) == 0
    assert candidates[0].track.spotify_id == "jazz"
    assert candidates[0].track.audio_features.energy == 0.31  # kept, with the features it was shown with
