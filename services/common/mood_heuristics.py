"""Reading a mood prompt without the LLM: a small lexicon of words → feature ranges, genres and emotions.

It is the fallback when Gemini is down, rate limited beyond the caller's deadline, or answers
nonsense (in the llm_gateway), and when the llm_gateway itself cannot be reached (in the orchestrator,
hence its place in common): cruder than the LLM, but it always yields a profile with a few targets, so
the caller still gets a playlist. What the prompt rules out ("nothing sad", "no rap", "anything but
pop", "nothing by Muse") goes to `avoid`, never to the genres or artists, and some mood words flip to
their opposite.
Named songs are read from `"Title" by Artist` and `like Title by Artist`; artists from the names after
"by", "like" or "from". The same exclusions guard the LLM's answers (`reconcile`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from segue.v1 import common_pb2

from services.common.cleaning import clean_names, clean_tracks, feature_target, unique_targets
from services.common.genres import genre_matches, same_name, words

Range = tuple[float, float, float]  # min, max, weight


@dataclass(frozen=True)
class Cue:
    ranges: Mapping[str, Range] = field(default_factory=dict)
    genres: tuple[str, ...] = ()
    emotion: str = ""
    negated: Mapping[str, Range] = field(default_factory=dict)  # what "not <word>" asks for instead


_CALM = Cue({"energy": (0.1, 0.5, 0.8), "tempo": (60, 110, 0.4), "loudness": (-20, -8, 0.3)}, (), "calm")
_SAD = Cue({"valence": (0.0, 0.35, 0.8), "energy": (0.1, 0.5, 0.5)}, (), "melancholic", {"valence": (0.4, 1.0, 0.6)})
_HAPPY = Cue({"valence": (0.6, 1.0, 0.8), "energy": (0.5, 0.9, 0.5)}, ("pop",), "joyful")
_PARTY = Cue({"danceability": (0.65, 1.0, 0.8), "energy": (0.65, 1.0, 0.7)}, ("dance pop", "house"), "euphoric")
_WORKOUT = Cue({"energy": (0.75, 1.0, 0.9), "tempo": (120, 180, 0.6)}, ("edm", "hip hop"), "energetic")
_FOCUS = Cue(
    {"instrumentalness": (0.5, 1.0, 0.7), "speechiness": (0.0, 0.1, 0.5), "energy": (0.2, 0.55, 0.5)},
    ("ambient", "lo-fi"),
    "focused",
)
_SLEEP = Cue({"energy": (0.0, 0.3, 0.9), "loudness": (-30, -12, 0.5), "tempo": (50, 95, 0.4)}, ("ambient",), "calm")
_ANGRY = Cue({"energy": (0.8, 1.0, 0.8), "valence": (0.0, 0.4, 0.5)}, ("metal", "punk"), "angry")
_ROMANTIC = Cue({"valence": (0.4, 0.8, 0.5), "acousticness": (0.3, 0.9, 0.4)}, ("r&b", "soul"), "romantic")
_RAINY = Cue(
    {"energy": (0.15, 0.5, 0.7), "acousticness": (0.4, 1.0, 0.5), "valence": (0.2, 0.6, 0.4)},
    ("lo-fi", "jazz"),
    "reflective",
)

_MOOD_WORDS: Mapping[str, Cue] = {
    **dict.fromkeys(("chill", "calm", "relax", "relaxed", "relaxing", "mellow", "cozy", "lazy", "sunday"), _CALM),
    **dict.fromkeys(("slow", "soft", "gentle", "quiet", "peaceful"), _CALM),
    **dict.fromkeys(("sad", "melancholy", "melancholic", "heartbreak", "lonely", "gloomy", "blue"), _SAD),
    **dict.fromkeys(("happy", "joyful", "cheerful", "sunny", "summer", "upbeat", "feelgood"), _HAPPY),
    **dict.fromkeys(("party", "dance", "dancing", "club"), _PARTY),
    **dict.fromkeys(("workout", "gym", "running", "run", "energetic", "hype", "pump", "fast"), _WORKOUT),
    **dict.fromkeys(("focus", "study", "studying", "concentrate", "concentration", "coding", "reading"), _FOCUS),
    **dict.fromkeys(("sleep", "sleepy", "bedtime", "lullaby"), _SLEEP),
    **dict.fromkeys(("angry", "rage", "aggressive", "furious"), _ANGRY),
    **dict.fromkeys(("romantic", "love", "date", "sensual"), _ROMANTIC),
    **dict.fromkeys(("rain", "rainy", "autumn", "cloudy", "grey", "gray"), _RAINY),
    "acoustic": Cue({"acousticness": (0.6, 1.0, 0.7)}, ("acoustic",)),
    "instrumental": Cue({"instrumentalness": (0.6, 1.0, 0.7)}, (), "", {"instrumentalness": (0.0, 0.3, 0.5)}),
    "live": Cue({"liveness": (0.6, 1.0, 0.6)}),
}

# Genre words (normalised: lower case, no spaces or punctuation) → the genre's usual name, with cues.
_GENRE_WORDS: Mapping[str, Cue] = {
    "jazz": Cue({"acousticness": (0.4, 1.0, 0.4), "instrumentalness": (0.2, 0.9, 0.3)}, ("jazz",)),
    "blues": Cue({}, ("blues",)),
    "rock": Cue({"energy": (0.6, 1.0, 0.5)}, ("rock",)),
    "indie": Cue({}, ("indie",)),
    "pop": Cue({}, ("pop",)),
    "hiphop": Cue({"speechiness": (0.1, 0.5, 0.4)}, ("hip hop",)),
    "rap": Cue({"speechiness": (0.15, 0.6, 0.5)}, ("rap",)),
    "rnb": Cue({}, ("r&b",)),
    "r&b": Cue({}, ("r&b",)),
    "randb": Cue({}, ("r&b",)),
    "soul": Cue({}, ("soul",)),
    "funk": Cue({"danceability": (0.6, 1.0, 0.5)}, ("funk",)),
    "disco": Cue({"danceability": (0.65, 1.0, 0.6)}, ("disco",)),
    "house": Cue({"danceability": (0.65, 1.0, 0.6), "tempo": (115, 130, 0.4)}, ("house",)),
    "techno": Cue({"energy": (0.7, 1.0, 0.6), "tempo": (120, 140, 0.4)}, ("techno",)),
    "edm": Cue({"energy": (0.7, 1.0, 0.6)}, ("edm",)),
    "electronic": Cue({}, ("electronic",)),
    "ambient": Cue({"energy": (0.0, 0.35, 0.6), "instrumentalness": (0.5, 1.0, 0.5)}, ("ambient",)),
    "classical": Cue({"acousticness": (0.7, 1.0, 0.6), "instrumentalness": (0.7, 1.0, 0.6)}, ("classical",)),
    "folk": Cue({"acousticness": (0.5, 1.0, 0.5)}, ("folk",)),
    "country": Cue({}, ("country",)),
    "metal": Cue({"energy": (0.8, 1.0, 0.7)}, ("metal",)),
    "punk": Cue({"energy": (0.75, 1.0, 0.6)}, ("punk",)),
    "reggae": Cue({}, ("reggae",)),
    "latin": Cue({"danceability": (0.6, 1.0, 0.4)}, ("latin",)),
    "kpop": Cue({}, ("k-pop",)),
    "lofi": Cue({"energy": (0.1, 0.5, 0.5), "tempo": (60, 95, 0.4)}, ("lo-fi",)),
    "bossanova": Cue({"acousticness": (0.5, 1.0, 0.4)}, ("bossa nova",)),
    "gospel": Cue({}, ("gospel",)),
    "soundtrack": Cue({"instrumentalness": (0.4, 1.0, 0.4)}, ("soundtrack",)),
}

_NEGATIONS = frozenset(("no", "not", "nothing", "without", "avoid", "never", "less", "non", "nor", "none"))
_NEGATION_REACH = 2  # "nothing too sad": the negation still covers the word two tokens later
_DEFAULT_RANGES: Mapping[str, Range] = {"energy": (0.35, 0.7, 0.5), "valence": (0.35, 0.75, 0.5)}
_TOKEN = re.compile(r"[a-z0-9&]+")
# Ways of ruling something out that read as a plain "no": "anything but pop", "except metal", "other than rap".
_EXCLUDING = re.compile(
    r"\b(?:anything|everything|whatever|all)\s+(?:but|except)\b|\bexcept(?:\s+for)?\b|\bother\s+than\b"
    r"|\bapart\s+from\b|\bbut\s+not\b|\bbut\s+no\b|\b(?:don'?t|do\s+not)\s+(?:want|play|like)\b|\bskip\b",
    re.IGNORECASE,
)
# A negation does not reach past a clause: "no pop, upbeat" rules out pop, not upbeat.
_CLAUSE = re.compile(r"[,.;:!?()\n]|\bbut\b", re.IGNORECASE)

# A capitalised name of up to five words; "of", "the", "and"... only between capitalised words.
_NAME = r"([A-Z0-9][\w'&.-]*(?:(?:\s+(?:of|the|and|de|la|&))?\s+[A-Z0-9][\w'&.-]*){0,4})"
_QUOTED_BY = re.compile(r"[\"“']([^\"”']{1,120})[\"”']\s+(?i:by)\s+" + _NAME)
# "songs like Blue Rain in June by Miles Quartet": an unquoted title runs from a capital to " by ".
_LIKE_TITLE_BY = re.compile(
    r"\b(?i:like|love|play|playing|hear|similar\s+to|such\s+as|plus)\s+([A-Z0-9][^,;:\"“”]{0,80}?)\s+(?i:by)\s+" + _NAME
)
_ARTIST_AFTER = re.compile(r"\b(?:by|like|from|artists?)\s+" + _NAME)
# "nothing by Muse", "no Drake", "without songs by Coldplay": a name the prompt rules out.
_BANNED = re.compile(
    r"\b(?i:no|not|nothing|without|avoid|never|none)\s+(?:(?i:songs|tracks|music|stuff|more|any|anything)\s+)?"
    r"(?:(?i:by|from)\s+)?(?=[A-Z])" + _NAME
)


def normalise_exclusions(text: str) -> str:
    """Every way of ruling something out written as "no", so one negation rule reads them all."""
    return _EXCLUDING.sub(" no ", text)


@dataclass(frozen=True)
class Mentions:
    tracks: list[common_pb2.MentionedTrack]
    artists: list[str]
    banned: list[str]  # artists the prompt rules out


def extract_mentions(text: str) -> Mentions:
    """Songs written as `"Title" by Artist` or `like Title by Artist`, capitalised names after "by", "like" or
    "from" — except names the prompt rules out, which are `banned`."""
    text = normalise_exclusions(text)
    banned = clean_names((m.group(1) for m in _BANNED.finditer(text)), 10)
    pairs = [(m.group(1), m.group(2)) for m in _QUOTED_BY.finditer(text)]
    pairs += [(m.group(1), m.group(2)) for m in _LIKE_TITLE_BY.finditer(text)]
    titles = [title.casefold() for title, _ in pairs]
    names = [artist for _, artist in pairs] + [m.group(1) for m in _ARTIST_AFTER.finditer(text)]
    artists = [
        a
        for a in names
        if a.casefold() not in {b.casefold() for b in banned} and not any(t.startswith(a.casefold()) for t in titles)
    ]
    return Mentions(clean_tracks(pairs, 10), clean_names(artists, 10), banned)


def _tokens(text: str) -> list[list[str]]:
    """The prompt's words, clause by clause."""
    clauses = _CLAUSE.split(normalise_exclusions(text).lower().replace("-", ""))
    return [_TOKEN.findall(clause) for clause in clauses]


def _cues(clauses: list[list[str]]) -> list[tuple[str, Cue, bool]]:
    """(word, cue, negated) for every lexicon word in the prompt; genre names may span two tokens."""
    found: list[tuple[str, Cue, bool]] = []
    for tokens in clauses:
        found += _clause_cues(tokens)
    return found


def _clause_cues(tokens: list[str]) -> list[tuple[str, Cue, bool]]:
    found: list[tuple[str, Cue, bool]] = []
    for i, token in enumerate(tokens):
        negated = any(t in _NEGATIONS for t in tokens[max(0, i - _NEGATION_REACH) : i])
        pair = token + tokens[i + 1] if i + 1 < len(tokens) else ""
        if pair in _GENRE_WORDS:
            found.append((pair, _GENRE_WORDS[pair], negated))
        elif token in _GENRE_WORDS:
            found.append((token, _GENRE_WORDS[token], negated))
        elif token in _MOOD_WORDS:
            found.append((token, _MOOD_WORDS[token], negated))
    return found


def _merge(ranges: list[tuple[str, Range]]) -> dict[str, Range]:
    """Several cues on one feature: the mean of their ranges, with the strongest weight."""
    grouped: dict[str, list[Range]] = {}
    for feature, r in ranges:
        grouped.setdefault(feature, []).append(r)
    return {
        feature: (sum(r[0] for r in rs) / len(rs), sum(r[1] for r in rs) / len(rs), max(r[2] for r in rs))
        for feature, rs in grouped.items()
    }


def _limit(ranges: dict[str, Range], limits: list[tuple[str, Range]]) -> dict[str, Range]:
    """What the prompt rules out is a hard limit ("nothing sad": valence at least 0.4), not one more vote."""
    out = dict(ranges)
    for feature, (low, high, weight) in limits:
        if feature in out:
            cur_low, cur_high, cur_weight = out[feature]
            new_low, new_high = max(cur_low, low), min(cur_high, high)
            out[feature] = (new_low, new_high, max(cur_weight, weight)) if new_low <= new_high else (low, high, weight)
        else:
            out[feature] = (low, high, weight)
    return out


def keywords(prompt: str) -> list[str]:
    """The words of the prompt that carry the mood (not those it rules out), as the heuristics read them:
    every profile's `keywords`, whoever read the rest (the LLM is not asked for them: its output costs time)."""
    return _keywords(_cues(_tokens(prompt)))


def _mood_words(cues: list[tuple[str, Cue, bool]]) -> list[str]:
    return [word for word, _, negated in cues if not negated]


def _keywords(cues: list[tuple[str, Cue, bool]]) -> list[str]:
    return clean_names(_mood_words(cues), 6)


def mood_profile(prompt: str) -> common_pb2.MoodProfile:
    """A usable profile from keywords alone (source HEURISTIC): always a few targets, maybe genres."""
    cues = _cues(_tokens(prompt))
    ranges: list[tuple[str, Range]] = []
    limits: list[tuple[str, Range]] = []
    genres: list[str] = []
    emotions: list[str] = []
    avoid: list[str] = []
    for word, cue, negated in cues:
        if negated:
            avoid.append(cue.genres[0] if word in _GENRE_WORDS and cue.genres else word)
            limits.extend(cue.negated.items())
            continue
        ranges.extend(cue.ranges.items())
        genres.extend(cue.genres)
        if cue.emotion:
            emotions.append(cue.emotion)
    merged = _limit({**_DEFAULT_RANGES, **_merge(ranges)}, limits)
    targets = unique_targets(feature_target(f, lo, hi, None, w) for f, (lo, hi, w) in merged.items())
    mentions = extract_mentions(prompt)
    avoid += mentions.banned
    matched = _mood_words(cues)
    return common_pb2.MoodProfile(
        interpretation=(
            "Read from keywords: " + ", ".join(clean_names(matched, 8))
            if matched
            else "No mood keywords recognised; a balanced, mid-energy profile."
        ),
        primary_emotion=emotions[0] if emotions else "neutral",
        targets=targets,
        genres=[g for g in clean_names(genres, 8) if not genre_matches(g, avoid)][:5],
        artists=mentions.artists,
        mentioned_tracks=mentions.tracks,
        keywords=_keywords(cues),
        avoid=clean_names(avoid, 8),
        source=common_pb2.MOOD_SOURCE_HEURISTIC,
    )


def genres_asked(prompt: str) -> list[str]:
    """The genres the prompt asks for (not those it rules out), by the lexicon."""
    return clean_names(
        (
            g
            for word, cue, negated in _cues(_tokens(prompt))
            if not negated and word in _GENRE_WORDS
            for g in cue.genres
        ),
        8,
    )


def exclusions(prompt: str) -> list[str]:
    """The genres and artists the prompt rules out ("anything but pop" → "pop"), by the rules above."""
    ruled = [
        cue.genres[0]
        for word, cue, negated in _cues(_tokens(prompt))
        if negated and word in _GENRE_WORDS and cue.genres
    ]
    return clean_names([*ruled, *extract_mentions(prompt).banned], 8)


def reconcile(profile: common_pb2.MoodProfile, prompt: str) -> None:
    """What the prompt plainly rules out is avoided, and out of the genres, artists and named songs, whatever
    the LLM said. Also: a song named as `"Title" by Artist` or `like Title by Artist` that the answer missed is
    added to its mentioned tracks (a misreading costs one search that finds nothing)."""
    ruled = exclusions(prompt)
    if ruled:
        avoid = clean_names([*profile.avoid, *ruled], 10)
        kept_genres = [g for g in profile.genres if not genre_matches(g, ruled)]
        kept_artists = [a for a in profile.artists if not any(same_name(a, r) for r in ruled)]
        kept_tracks = [t for t in profile.mentioned_tracks if not _ruled_out(t, ruled)]
        for field_ in (profile.avoid, profile.genres, profile.artists, profile.mentioned_tracks):
            del field_[:]
        profile.avoid.extend(avoid)
        profile.genres.extend(kept_genres)
        profile.artists.extend(kept_artists)
        profile.mentioned_tracks.extend(kept_tracks)
    known = {t.title.casefold() for t in profile.mentioned_tracks}
    for named in extract_mentions(prompt).tracks:
        if named.title.casefold() not in known and not _ruled_out(named, ruled):
            profile.mentioned_tracks.append(named)


def _ruled_out(track: common_pb2.MentionedTrack, ruled: list[str]) -> bool:
    """A named song by a ruled-out artist, or whose title is part of a ruled-out name (a misread exclusion)."""
    return any(same_name(track.artist, r) or (track.title and words(track.title) in words(r)) for r in ruled)
