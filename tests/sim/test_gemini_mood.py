"""The mood reader over the simulator's own catalog: genres, named artists and tracks exactly as the catalog
writes them, exclusions in every usual phrasing, no mentions invented from common words, and feature ranges."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bench.prompts import BASE_PROMPTS, load_prompt
from sim.catalog import build_catalog
from sim.gemini import knowledge
from sim.gemini.mood import Mood, read_mood, recommend_artists
from sim.profile import load_profile

CATALOG = build_catalog(42, load_profile("fast").catalog)  # deterministic by seed, memoised per process
KB = knowledge(CATALOG)
GENRES = [g.name for g in CATALOG.genres]
BY_POPULARITY = sorted(CATALOG.artists, key=lambda a: (-a.popularity, a.index))


def mood(prompt: str) -> Mood:
    return read_mood(prompt, KB)


def main_artist(index: int) -> str:
    return CATALOG.artists[CATALOG.tracks[index].artist_indices[0]].name


# artists as the catalog writes them: plain names, one-word names in capitals, "&" and dotted names
ARTISTS = [a.name for a in BY_POPULARITY if " " in a.name and "&" not in a.name][:4]
ARTISTS += [a.name for a in BY_POPULARITY if a.name.isupper() and " " not in a.name][:1]
ARTISTS += [next(a.name for a in BY_POPULARITY if "&" in a.name), next(a.name for a in BY_POPULARITY if "." in a.name)]


def _tracks() -> list[tuple[str, str]]:
    """Popular tracks with titles of two or more words by artists with two-word names, a one-word title, and
    a title several artists share, named with its less popular artist (the correct artist must win)."""
    popular = sorted(CATALOG.tracks, key=lambda t: (-t.popularity, t.index))
    pairs = [(t.title, main_artist(t.index)) for t in popular]
    picked = [p for p in pairs if " " in p[0] and len(p[1].split()) == 2][:3]
    picked += [next(p for p in pairs if " " not in p[0] and len(p[1].split()) == 2)]
    versions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair in pairs:
        versions[pair[0]].append(pair)
    shared = next(v for v in versions.values() if len(v) > 1 and " " in v[0][0] and len(v[-1][1].split()) == 2)
    return [*picked, shared[-1]]


TRACKS = _tracks()


@pytest.mark.parametrize("genre", GENRES)
def test_a_genre_named_positively_leads_the_genres_in_catalog_spelling(genre: str) -> None:
    read = mood(f"some {genre} for tonight")
    assert read.top_genres()[0] == genre
    assert genre not in read.avoid and genre in read.keywords


@pytest.mark.parametrize(
    ("written", "genre"),
    [("lofi hiphop", "lo-fi hip hop"), ("Hip-Hop", "hip hop"), ("R&B", "r&b"), ("kpop", "k-pop"),
     ("drum & bass", "drum and bass"), ("post rock", "post-rock"), ("singer songwriter", "singer-songwriter")],
)  # fmt: skip
def test_genres_are_recognised_in_any_spelling(written: str, genre: str) -> None:
    assert mood(f"{written} please").top_genres()[0] == genre


EXCLUSIONS = [
    "anything but {}",
    "everything but {}",
    "no {}",
    "without {}",
    "not {}",
    "nothing {}",
    "except {}",
    "minus {}",
    "something upbeat, no {} please",
    "chill songs other than {}",
]


@pytest.mark.parametrize("phrasing", EXCLUSIONS)
@pytest.mark.parametrize("genre", ["pop", "hip hop", "r&b", "drum and bass", "lo-fi hip hop", *GENRES[::5]])
def test_an_excluded_genre_goes_to_avoid_and_never_to_genres(phrasing: str, genre: str) -> None:
    read = mood(phrasing.format(genre))
    assert genre in read.avoid
    assert genre not in read.top_genres(6) and genre not in read.named_genres
    assert genre in read.excluded_genres


def test_excluding_a_genre_excludes_the_genres_named_after_it() -> None:
    read = mood("anything but pop")
    assert read.avoid == ("pop",)
    assert {"pop", "dance pop", "indie pop", "k-pop", "j-pop", "city pop"} <= read.excluded_genres
    assert not any("pop" in g for g in read.top_genres(6))
    genres_of = {a.name: a.genres for a in CATALOG.artists}
    assert not any("pop" in g for a in recommend_artists(read, KB, 12) for g in genres_of[a])


def test_an_exclusion_and_a_wish_in_one_prompt() -> None:
    read = mood("jazz, but nothing smooth jazz")
    assert read.top_genres()[0] == "jazz" and "smooth jazz" in read.avoid
    assert "smooth jazz" not in read.top_genres(6)


@pytest.mark.parametrize("phrasing", ["songs like {}", "{} vibes for the weekend", "something similar to {}"])
@pytest.mark.parametrize("artist", ARTISTS)
def test_a_named_artist_is_extracted_as_the_catalog_writes_it(phrasing: str, artist: str) -> None:
    read = mood(phrasing.format(artist))
    assert read.artists == (artist,)
    assert recommend_artists(read, KB, 12)[0] == artist
    assert read.intent == "artist_focus"


@pytest.mark.parametrize("artist", [a for a in ARTISTS if len(a.split()) > 1])
def test_a_named_artist_in_lower_case_needs_words_that_say_an_artist_is_meant(artist: str) -> None:
    assert mood(f"music by {artist.lower()}").artists == (artist,)
    assert mood(f"i'm a fan of {artist.lower()}").artists == (artist,)


@pytest.mark.parametrize(
    "phrasing",
    ["songs like {t} by {a}", "{t} by {a}", "{tl} by {al} on repeat", 'more like "{t}" by {a}', "{t}, by {a}!!"],
)
@pytest.mark.parametrize(("title", "artist"), TRACKS)
def test_a_named_track_is_extracted_with_the_catalogs_title_and_the_right_artist(
    phrasing: str, title: str, artist: str
) -> None:
    read = mood(phrasing.format(t=title, a=artist, tl=title.lower(), al=artist.lower()))
    assert read.tracks == ((title, artist),)
    assert read.artists == (artist,)
    assert read.intent == "specific_track_similar"


def recorded_by(title: str) -> set[str]:
    return {main_artist(t.index) for t in CATALOG.tracks if t.title == title}


@pytest.mark.parametrize(("title", "artist"), TRACKS[:3])
def test_a_quoted_or_capitalised_title_alone_names_its_artist_only_when_one_recorded_it(
    title: str, artist: str
) -> None:
    meant = artist if recorded_by(title) == {artist} else ""  # several versions: the model does not guess
    assert mood(f'play "{title}" tonight').tracks == ((title, meant),)
    assert mood(f"something like {title} for a drive").tracks == ((title, meant),)
    assert mood(f"something like {title.lower()} for a drive").tracks == ()  # lower case: just words


def test_a_title_several_artists_recorded_comes_without_an_artist_unless_one_is_named() -> None:
    title, artist = TRACKS[-1]  # shared by several artists; `artist` recorded the less popular version
    assert len(recorded_by(title)) > 1
    assert mood(f'play "{title}" tonight').tracks == ((title, ""),)
    assert mood(f'play "{title}" by {artist} tonight').tracks == ((title, artist),)


def test_the_bench_prompt_naming_a_track_reads_it_exactly() -> None:
    popular = sorted(CATALOG.tracks, key=lambda t: (-t.popularity, t.index))[2]
    title, artist = popular.title, main_artist(popular.index)
    read = mood(BASE_PROMPTS[4].format(track=title, artist=artist))
    assert read.tracks == ((title, artist),) and read.artists == (artist,)


def test_an_excluded_artist_is_avoided_not_named() -> None:
    wanted, unwanted = ARTISTS[0], ARTISTS[1]
    read = mood(f"songs like {wanted} but no {unwanted}")
    assert read.artists == (wanted,) and read.avoid_artists == (unwanted,) and unwanted in read.avoid
    assert unwanted not in recommend_artists(read, KB, 12)


@pytest.mark.parametrize(
    "prompt",
    [
        *(p for p in BASE_PROMPTS if "{" not in p),
        *(load_prompt(i) for i in range(0, 960, 37)),
        "rain sounds for sleeping",
        "a deep ocean of sound",
        "Late night drive with the windows down",
        "summer rain and quiet storms",
        "the road ahead, golden hour",
    ],
)
def test_a_prompt_naming_nothing_extracts_no_artist_and_no_track(prompt: str) -> None:
    read = mood(prompt)
    assert read.artists == () and read.tracks == ()


def test_era_words_are_keywords() -> None:
    read = mood("90s hip hop")
    assert read.top_genres()[0] == "hip hop" and "90s" in read.keywords and read.decade == 1990


def test_the_same_words_always_read_the_same() -> None:
    assert mood("rainy sunday, slow jazz, nothing sad") == mood("rainy sunday, slow jazz, nothing sad")


def test_rainy_slow_jazz_and_workout_party_are_far_apart() -> None:
    rainy, party = mood("rainy slow jazz"), mood("workout party anthems")
    assert rainy.ranges["energy"].high < party.ranges["energy"].low
    assert rainy.ranges["tempo"].target < party.ranges["tempo"].target
    assert rainy.top_genres()[0] == "jazz" and {"edm", "dance pop"} & set(party.top_genres())


def test_a_negated_mood_word_bounds_the_feature_instead_of_asking_for_it() -> None:
    plain, not_sad, sad = mood("rainy jazz"), mood("rainy jazz, nothing sad"), mood("sad rainy jazz")
    assert not_sad.ranges["valence"].low >= 0.4
    assert not_sad.ranges["valence"].low > plain.ranges["valence"].low > sad.ranges["valence"].low
    assert "sad" in not_sad.avoid and not sad.avoid
    assert not_sad.emotion != "sadness" and sad.emotion == "sadness"


def test_stated_numbers_win_over_adjectives() -> None:
    read = mood("chill songs but energy around 0.8 and 140 bpm")
    assert read.ranges["energy"].low <= 0.8 <= read.ranges["energy"].high
    assert read.ranges["tempo"].low <= 140 <= read.ranges["tempo"].high


def test_focus_means_instrumental_with_little_speech() -> None:
    read = mood("deep focus music for studying")
    assert read.ranges["instrumentalness"].target >= 0.6 and read.ranges["speechiness"].target <= 0.1
    assert read.emotion == "focus" and {"instrumentalness", "speechiness"} <= set(read.constrained)
