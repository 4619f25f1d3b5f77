"""Short sentences the fake model writes: interpretations, reasons, summaries and plain-text answers."""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

from .candidates import GOOD_FIT, KEEP_FIT, Candidate, CandidateList, Fit
from .features import SCALES
from .mood import Mood
from .text import join_words


def feature_phrase(mood: Mood, feature: str) -> str:
    """ "energy 0.14–0.44", "tempo around 82 BPM", "loudness around -13 dB"."""
    wanted = mood.ranges[feature]
    if feature == "tempo":
        return f"tempo around {wanted.target:g} BPM"
    if feature == "loudness":
        return f"loudness around {wanted.target:g} dB"
    return f"{feature} {wanted.low:g}–{wanted.high:g}"


def genre_phrase(mood: Mood, count: int = 2) -> str:
    return join_words(list(mood.top_genres(count)))


def mood_sentence(mood: Mood) -> str:
    """One sentence saying how the prompt was read."""
    adjectives = ", ".join(mood.adjectives())
    article = "An" if adjectives[:1] in "aeiou" else "A"
    parts = [f"{article} {adjectives} mood leaning on {genre_phrase(mood)}"]
    features = [feature_phrase(mood, f) for f in mood.constrained[:2]]
    if features:
        parts.append(f" with {join_words(features)}")
    if mood.decade is not None:
        parts.append(f", from the {mood.decade}s")
    if mood.mentioned_artists:
        parts.append(f", anchored on {join_words(list(mood.mentioned_artists[:2]))}")
    if mood.avoid:
        parts.append(f", avoiding {join_words(list(mood.avoid[:2]))}")
    return "".join(parts) + "."


def candidate_reason(candidate: Candidate, fit: Fit) -> str:
    if not fit.evidence:
        return f"{candidate.name}: no details to judge it by, kept in listed order."
    verdict = (
        "fits the mood" if fit.score >= GOOD_FIT else "is a partial fit" if fit.score >= KEEP_FIT else "is off-mood"
    )
    return f"{candidate.name} {verdict}: {'; '.join(fit.reasons)}."


def choice_summary(mood: Mood, candidates: CandidateList) -> str:
    return (
        f"Ranked the {len(candidates.candidates)} candidates by how well they match the "
        f"{' '.join(mood.adjectives()[:2])} {genre_phrase(mood, 1)} mood, on genre and audio features."
    )


def artist_reason(artist: str, genres: Sequence[str], mood: Mood) -> str:
    fitting = [g for g in genres if g in mood.top_genres(6)] or list(genres[:1])
    if not fitting:
        return f"{artist} suits the {' '.join(mood.adjectives()[:2])} mood."
    return f"{artist} plays {join_words(fitting[:2])}, which suits the {' '.join(mood.adjectives()[:2])} mood."


def track_reason(title: str, artist: str, mood: Mood) -> str:
    if (title, artist) in mood.mentioned_tracks:
        return f"The user asked for {title} by {artist}."
    return f"{title} by {artist} matches the {' '.join(mood.adjectives()[:2])} feel."


def title_phrase(mood: Mood) -> str:
    """A playlist-style title: "Rainy Slow Jazz"."""
    words = [w for k in mood.keywords[:3] for w in k.split()][:4] or [*mood.adjectives()[:1], mood.genres[0]]
    return " ".join(w[:1].upper() + w[1:] for w in words)


def colour(mood: Mood, shift: int) -> str:
    """A hex colour for the mood: cool and dark when sad or calm, warm and bright when happy or energetic."""
    valence = mood.ranges["valence"].target
    energy = mood.ranges["energy"].target
    hue = (0.62 - 0.5 * valence + 0.11 * shift) % 1.0
    lightness = 0.3 + 0.35 * energy
    saturation = 0.35 + 0.5 * valence
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def plain_answer(mood: Mood, lists: Sequence[CandidateList], best: Sequence[Candidate]) -> str:
    """The text answer when no JSON is asked for."""
    sentence = mood_sentence(mood)
    if lists and best:
        names = join_words([c.name for c in best[:3]])
        return f"{sentence} From the candidates, the best fits are {names}."
    tempo = SCALES["tempo"].round(mood.ranges["tempo"].target)
    return f"{sentence} Think {genre_phrase(mood, 3)} at about {tempo:g} BPM."


# list-of-remarks properties: which kind of remark their name asks for
PHRASE_KINDS: dict[str, frozenset[str]] = {
    "positive": frozenset("strength pro highlight positive good upside".split()),
    "negative": frozenset("issue concern weakness con problem risk outlier gap downside".split()),
    "suggestion": frozenset(
        "suggestion strategy action improvement recommendation step next fix change tweak adjustment".split()
    ),
}


def remark_kind(words: frozenset[str]) -> str | None:
    """Which kind of remark a property's words ask for, if any."""
    return next((kind for kind, triggers in PHRASE_KINDS.items() if words & triggers), None)


def list_phrase(kind: str | None, mood: Mood, index: int) -> str:
    """The `index`-th remark of a kind ("positive", "negative", "suggestion", or None for reasoning)."""
    feature = (mood.constrained or ("energy",))[0]
    genres = mood.top_genres(3)
    adjectives = " ".join(mood.adjectives()[:2])
    options = {
        "positive": [f"fits the {adjectives} mood", f"consistent {feature_phrase(mood, feature)}",
                     f"good mix of {join_words(list(genres[:2]))}"],
        "negative": [f"a few tracks drift outside {feature_phrase(mood, feature)}",
                     f"leans heavily on {genres[0]}", "little variety in tempo"],
        "suggestion": [f"add more {genres[-1]}", f"keep {feature_phrase(mood, feature)}",
                       f"swap outliers for {genres[0]} tracks"],
    }  # fmt: skip
    if kind is None:
        return [mood_sentence(mood), f"Leans on {genre_phrase(mood, 3)}."][index % 2]
    return options[kind][index % len(options[kind])]
