"""Reading a mood from the user's words: feature ranges, catalog genres, named artists and tracks, exclusions.

A pure function of the text and the catalog, so the same prompt always gives the same mood, whatever the
request around it (a single call and a bundled one read a prompt alike).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .knowledge import Knowledge, Match, longest_runs
from .lexicon import (
    FEATURE_WORDS,
    FEATURES,
    SCALES,
    STOPWORDS,
    Cue,
    Token,
    join_words,
    key,
    lexicon,
    tokenize,
)

EXPLICIT_WEIGHT = 3.0  # a number the prompt states ("energy 0.8") outweighs any adjective
NAMED_GENRE_WEIGHT = 0.6  # a named genre pulls the features where its centroid is distinctive
_UNITS = {"tempo": "BPM", "loudness": "dB"}  # features a sentence gives as a target, not a range


@dataclass(frozen=True, slots=True)
class FeatureRange:
    low: float
    high: float
    target: float
    weight: float  # 0–1: how much the prompt cares about this feature


@dataclass(frozen=True)
class Mood:
    ranges: Mapping[str, FeatureRange]  # every feature
    constrained: tuple[str, ...]  # the features the prompt constrains, strongest first
    genres: tuple[str, ...]  # every catalog genre, best fitting first (excluded ones last)
    strong_genres: int  # how many leading `genres` the prompt points at (named or hinted)
    genre_fit: Mapping[str, float]  # catalog genre → 0–1 fit
    named_genres: tuple[str, ...]
    artists: tuple[str, ...]  # named by the prompt, as the catalog writes them
    tracks: tuple[tuple[str, str], ...]  # named by the prompt: (title, artist) as the catalog writes them
    keywords: tuple[str, ...]
    avoid: tuple[str, ...]  # excluded words, genres and artists
    excluded_genres: frozenset[str]  # the genres excluded, and those containing them ("pop" → "dance pop")
    avoid_artists: tuple[str, ...]
    emotion: str
    decade: int | None

    @property
    def intent(self) -> str:
        if self.tracks:
            return "specific_track_similar"
        if self.artists:
            return "artist_focus"
        return "genre_exploration" if self.named_genres else "mood_variety"

    def top_genres(self, minimum: int = 0) -> tuple[str, ...]:
        return self.genres[: max(min(max(self.strong_genres, 2), 4), minimum)]

    def adjectives(self) -> list[str]:
        """Two or three words that describe the mood, for sentences."""
        energy, valence = self.ranges["energy"].target, self.ranges["valence"].target
        out = ["calm" if energy < 0.38 else "energetic" if energy >= 0.7 else "mid-tempo"]
        out.append("melancholic" if valence < 0.35 else "upbeat" if valence >= 0.65 else "warm")
        if self.ranges["acousticness"].target >= 0.6:
            out.append("acoustic")
        elif self.ranges["instrumentalness"].target >= 0.6:
            out.append("instrumental")
        return out

    def sentence(self) -> str:
        """One sentence saying how the prompt was read."""
        adjectives = ", ".join(self.adjectives())
        article = "An" if adjectives[:1] in "aeiou" else "A"
        parts = [f"{article} {adjectives} mood leaning on {join_words(list(self.genres[:2]))}"]
        features = [_feature_phrase(f, self.ranges[f]) for f in self.constrained[:2]]
        if features:
            parts.append(f" with {join_words(features)}")
        if self.decade is not None:
            parts.append(f", from the {self.decade}s")
        if self.artists:
            parts.append(f", anchored on {join_words(list(self.artists[:2]))}")
        if self.avoid:
            parts.append(f", avoiding {join_words(list(self.avoid[:2]))}")
        return "".join(parts) + "."


def _feature_phrase(feature: str, wanted: FeatureRange) -> str:
    if feature in _UNITS:
        return f"{feature} around {wanted.target:g} {_UNITS[feature]}"
    return f"{feature} {wanted.low:g}–{wanted.high:g}"


def recommend_artists(mood: Mood, kb: Knowledge, count: int) -> list[str]:
    """The artists the prompt names, then the catalog's best known artists of the mood's leading genres."""
    top = mood.genres[: max(3, min(mood.strong_genres, 6))]
    weight = {g: 1.0 / (1 + rank) for rank, g in enumerate(top)}
    scored = []
    for position in sorted({p for g in top for p in kb.artists_by_genre.get(g, ())}):
        name, genres, popularity = kb.artists[position]
        if name in mood.avoid_artists or mood.excluded_genres.intersection(genres) or name in mood.artists:
            continue
        scored.append((-sum(weight.get(g, 0.0) for g in genres), -popularity, name))
    return [*mood.artists, *dict.fromkeys(name for _, _, name in sorted(scored))][:count]


@dataclass
class _Evidence:
    values: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {f: [] for f in FEATURES})
    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)
    hints: dict[str, float] = field(default_factory=dict)  # genre hint word → weight
    emotions: dict[str, float] = field(default_factory=dict)

    def add_cue(self, cue: Cue, strength: float = 1.0) -> None:
        """`strength` weighs the cue's emotion: more when the word names the emotion itself ("happy")."""
        for feature, value in cue.features.items():
            self.values[feature].append((value, cue.weight))
        for hint in cue.genres:
            self.hints[hint] = self.hints.get(hint, 0.0) + cue.weight
        if cue.emotion:
            self.emotions[cue.emotion] = self.emotions.get(cue.emotion, 0.0) + cue.weight * strength

    def negate_cue(self, cue: Cue) -> None:
        """ "Nothing sad": a bound on the far side of the cue's first (defining) feature, not a target."""
        for feature, value in list(cue.features.items())[:1]:
            scale = SCALES[feature]
            step = 2 * scale.half_width
            if value < scale.neutral:
                self.floors[feature] = max(self.floors.get(feature, scale.low), scale.clamp(value + step))
            elif value > scale.neutral:
                self.ceilings[feature] = min(self.ceilings.get(feature, scale.high), scale.clamp(value - step))


# cue words that name their own entry's emotion ("happy" is joy itself, "sunny" only suggests it): they count double
EMOTION_WORDS = frozenset(
    "aggressive anger angry anxious blue brooding calm cheerful chill concentration confident dark dreamy empowered "
    "energetic epic ethereal focus focused furious grief happy heartbreak hopeful hyped intimate joy joyful "
    "melancholic melancholy nostalgia nostalgic ominous optimistic peaceful productive pumped rage relaxed romance "
    "romantic sad sadness sensual serene somber tense tranquil triumphant upbeat".split()
)

# decade → genre hints (features come from those genres)
DECADES: dict[int, str] = {
    1950: "jazz, blues, rock and roll, doo-wop",
    1960: "soul, classic rock, folk, bossa nova",
    1970: "disco, funk, classic rock, soul",
    1980: "synthwave, new wave, synth-pop, city pop, pop",
    1990: "grunge, hip hop, r&b, eurodance, trip hop",
    2000: "pop punk, emo, pop, r&b, hip hop",
    2010: "edm, trap, indie pop, dance pop",
    2020: "hyperpop, afrobeats, pop, phonk",
}
DECADE_WORDS = {"fifties": 1950, "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990,
                "y2k": 2000, "noughties": 2000}  # fmt: skip

# words that turn the next few content words into things to avoid; "but" does after anything/everything/all
NEGATORS: frozenset[str] = frozenset(
    "no not nothing without avoid avoiding never none except excluding exclude minus less don dont isn "
    "aren skip hate hates".split()
)
NEGATING_BUT = frozenset("anything everything all".split())  # "anything but pop"
NEGATING_PAIRS = frozenset({("other", "than"), ("apart", "from"), ("instead", "of")})  # "other than rock"
# words inside a negation's reach that neither end it nor get negated ("nothing *too* sad")
NEGATION_FILLER: frozenset[str] = frozenset(
    "too very overly so any anything that t want wanna please really super songs song tracks music stuff "
    "or nor and".split()
)

_FLOORS = frozenset("above over least min minimum > >=".split())  # else a ceiling: below, under, at most...
_FEATURE_NUMBER = re.compile(
    r"\b([a-z]+)\s*(?:(?:of|around|about|near|roughly|at|is|=|:|~)\s*)*"
    r"(above|over|below|under|at least|at most|min(?:imum)?|max(?:imum)?|>=|<=|>|<)?\s*(-?\d+(?:\.\d+)?)(%?)",
    re.IGNORECASE,
)
_BPM = re.compile(r"\b(\d{2,3})\s*bpm\b", re.IGNORECASE)
_DECADE = re.compile(r"(?<![\w.])(?:(19|20)(\d)0|'?(\d)0)'?s\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-2]\d)\b")
_QUOTED = re.compile(r"[\"“‘]([^\"”’\n]{2,80})[\"”’]|(?<!\w)'([^'\n]{2,80})'(?!\w)")
_STOP_SCOPE = frozenset("but though however yet although whereas".split())
_NOT_KEYWORDS = STOPWORDS | NEGATORS | set(FEATURE_WORDS)  # never keywords on their own
_ARTIST_CUES = frozenset("like by from artist artists band bands similar fan fans featuring feat ft love loves".split())


def explicit_numbers(text: str) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Feature values a text states ("energy 0.42", "tempo above 120", "95 bpm", "valence: 30%"):
    (targets, floors, ceilings)."""
    found: dict[str, dict[str, float]] = {"target": {}, "floor": {}, "ceiling": {}}
    for match in _FEATURE_NUMBER.finditer(text):
        feature = FEATURE_WORDS.get(match.group(1).lower())
        if feature is None:
            continue
        scale = SCALES[feature]
        value = float(match.group(3))
        if scale.high == 1.0 and 1 < value <= 100:  # "energy 80" or "energy 80%"
            value /= 100
        if scale.low <= value <= scale.high:
            bound = match.group(2).lower().split()[-1] if match.group(2) else None
            found["target" if bound is None else "floor" if bound in _FLOORS else "ceiling"][feature] = value
    for match in _BPM.finditer(text):
        found["target"].setdefault("tempo", float(match.group(1)))
    return found["target"], found["floor"], found["ceiling"]


def _decade(text: str, tokens: Sequence[Token]) -> int | None:
    match = _DECADE.search(text)
    if match:
        if match.group(1):
            return int(match.group(1) + match.group(2) + "0")
        return (1900 if int(match.group(3)) >= 3 else 2000) + int(match.group(3)) * 10
    named = [DECADE_WORDS[t.norm] for t in tokens if t.norm in DECADE_WORDS]  # "eighties"
    year = _YEAR.search(text)
    return named[0] if named else int(year.group(1)) // 10 * 10 if year else None


def _negated_positions(text: str, tokens: Sequence[Token]) -> dict[int, int]:
    """Token position → the negator whose reach covers it: the next three content words, up to punctuation
    or "but" ("nothing too sad or slow", "anything but pop", "other than rock")."""
    negated: dict[int, int] = {}
    for i, token in enumerate(tokens):
        previous = tokens[i - 1].norm if i else ""
        if not (
            token.norm in NEGATORS
            or (token.norm == "but" and previous in NEGATING_BUT)
            or (previous, token.norm) in NEGATING_PAIRS
        ):
            continue
        content = 0
        for j in range(i + 1, min(len(tokens), i + 8)):
            if any(c in ".,;:!?\n()" for c in text[tokens[j - 1].end : tokens[j].start]):
                break
            if tokens[j].norm in _STOP_SCOPE:
                break
            if tokens[j].norm in NEGATION_FILLER or tokens[j].norm in NEGATORS:
                continue
            negated.setdefault(j, i)
            content += 1
            if content >= 3:
                break
    return negated


def _lexicon_spans(tokens: Sequence[Token], taken: set[int]) -> list[tuple[int, int, Cue]]:
    phrases = lexicon()
    norms = [t.norm for t in tokens]

    def lookup(start: int, end: int) -> Cue | None:
        return None if taken.intersection(range(start, end)) else phrases.get(tuple(norms[start:end]))

    runs = longest_runs(len(norms), max(map(len, phrases)), lookup)
    return [(start, end, cue) for start, end, cue in runs if cue is not None]


def _artists_named(text: str, tokens: Sequence[Token], kb: Knowledge) -> list[Match]:
    """Catalog artists a text names: written as the catalog writes them ("Amber Avenue", "LIV"), or, for
    names of two or more words, in any case next to words that say an artist is meant ("songs like amber
    avenue", "by amber avenue", "amber avenue's"), so "a deep ocean of sound" does not name Deep Ocean."""
    found = []
    for match in kb.artist_names.find(tokens):
        written = text[tokens[match.start].start : tokens[match.end - 1].end]
        exact = written == match.name or (written[:4] == "the " and "The " + written[4:] == match.name)
        before = {t.norm for t in tokens[max(0, match.start - 3) : match.start]}
        cued = bool(before & _ARTIST_CUES) or (match.end < len(tokens) and tokens[match.end].norm == "s")
        if exact or (cued and match.end - match.start > 1):
            found.append(match)
    return found


def _tracks_named(
    text: str, tokens: Sequence[Token], kb: Knowledge, artists: Sequence[Match]
) -> list[tuple[Match, tuple[str, str]]]:
    """Catalog tracks a text names, each with where its title is and (title, artist) as the catalog writes
    them: "<title> by <artist>" (one of that artist's titles, any case or punctuation), a quoted title, or a
    title of two or more words written as the catalog writes it."""
    norms = [t.norm for t in tokens]
    found: list[tuple[Match, tuple[str, str]]] = []

    def add(pair: tuple[str, str] | None, start: int, end: int) -> None:
        overlaps = any(m.start < end and start < m.end for m, _ in found)
        if pair is not None and not overlaps and all(p != pair for _, p in found):
            found.append((Match(pair[0], start, end), pair))

    for artist in artists:
        by = artist.start - 1
        if by < 1 or norms[by] != "by":
            continue
        titles = kb.titles_by_artist.get(artist.name.lower(), [])
        fitting = [t for t in titles if len(t[0]) <= by and tuple(norms[by - len(t[0]) : by]) == t[0]]
        if fitting:
            title_words, title = max(fitting, key=lambda t: len(t[0]))
            add((title, artist.name), by - len(title_words), by)
    named = [a.name for a in artists]
    for quote in _QUOTED.finditer(text):
        inside = [i for i, t in enumerate(tokens) if quote.start() < t.start and t.end < quote.end()]
        if inside:
            add(kb.version(key(quote.group(1) or quote.group(2)), named), inside[0], inside[-1] + 1)
    artist_spans = {(a.start, a.end) for a in artists}
    for match in kb.long_titles.find(tokens):
        written = text[tokens[match.start].start : tokens[match.end - 1].end]
        if written == match.name and (match.start, match.end) not in artist_spans:
            add(kb.version(key(match.name), named), match.start, match.end)
    return found


def read_mood(text: str, kb: Knowledge) -> Mood:
    """The mood of `text`, the user's own words."""
    tokens = tokenize(text)
    negated = _negated_positions(text, tokens)
    evidence = _Evidence()
    avoid: list[str] = []

    # names first: words inside an artist's name or a track's title ("Sad Sam", "Blue Rain") are not cues
    genre_matches, text_hinted = kb.genres_in(tokens)
    genre_positions = {p for m in genre_matches for p in range(m.start, m.end)}
    named: dict[str, int] = {}
    for match in genre_matches:
        named.setdefault(match.name, match.start)
    artist_matches = _artists_named(text, tokens, kb)
    tracks = _tracks_named(text, tokens, kb, artist_matches)
    title_positions = {p for m, _ in tracks for p in range(m.start, m.end)}
    artist_matches = [m for m in artist_matches if not title_positions.intersection(range(m.start, m.end))]
    # "no Amber Avenue": a negated artist is one to avoid, not one the user asks for
    avoid_artists = list(dict.fromkeys(m.name for m in artist_matches if m.start in negated))
    artist_matches = [m for m in artist_matches if m.start not in negated]
    mentioned = list(dict.fromkeys(m.name for m in artist_matches))
    name_positions = title_positions | {p for m in artist_matches for p in range(m.start, m.end)}
    spans = _lexicon_spans(tokens, genre_positions | name_positions)

    for start, end, cue in spans:
        phrase = " ".join(t.norm for t in tokens[start:end])
        if start in negated and tokens[start].norm not in NEGATORS:
            evidence.negate_cue(cue)
            avoid.append(phrase)
        else:
            evidence.add_cue(cue, strength=2.0 if phrase in EMOTION_WORDS else 1.0)
    kept = [g for g, position in named.items() if position not in negated]
    excluded = [g for g in named if g not in kept]
    avoid.extend(excluded + avoid_artists)
    for genre in kept:  # a named genre pulls the features where its centroid is distinctive
        for feature in FEATURES:
            scale, value = SCALES[feature], kb.genres[genre].get(feature)
            if value is not None and abs(scale.to_unit(scale.clamp(value)) - scale.to_unit(scale.neutral)) > 0.12:
                evidence.values[feature].append((value, NAMED_GENRE_WEIGHT))
    for artist in [*mentioned, *(a for _, (_, a) in tracks)]:
        for genre in kb.artist_genres.get(artist.lower(), ()):
            evidence.hints[genre] = evidence.hints.get(genre, 0.0) + 1.0
    decade = _decade(text, tokens)
    for hint in DECADES[decade].split(", ") if decade in DECADES else ():
        evidence.hints[hint] = evidence.hints.get(hint, 0.0) + 0.8
    targets, floors, ceilings = explicit_numbers(text)
    for feature, value in targets.items():
        evidence.values[feature].append((value, EXPLICIT_WEIGHT))
    for feature, value in floors.items():
        evidence.floors[feature] = max(evidence.floors.get(feature, value), value)
    for feature, value in ceilings.items():
        evidence.ceilings[feature] = min(evidence.ceilings.get(feature, value), value)
    # words in a negation's reach that are neither cues nor genres: "no country" when the catalog has none
    covered = {p for s, e, _ in spans for p in range(s, e)} | genre_positions | name_positions
    covered |= {p for m in kb.artist_names.find(tokens) for p in range(m.start, m.end)}
    for position in sorted(negated):
        word = tokens[position].norm
        if position not in covered and word not in STOPWORDS and not word.isdigit():
            avoid.append(word)

    hint_scores = _hint_scores(evidence.hints, kb, text_hinted)
    ranges, constrained = _ranges(evidence, kb, kept, hint_scores)
    excluded_all = frozenset(g for x in excluded for g in kb.genre_part_keys.get(key(x), ()))
    genre_fit, ranked, strong = _rank_genres(kb, ranges, constrained, kept, hint_scores, excluded_all)
    phrases = [(s, e, " ".join(t.norm for t in tokens[s:e])) for s, e, _ in spans]
    phrases += [(m.start, m.end, m.name) for m in [*artist_matches, *(m for m, _ in tracks), *genre_matches]]
    return Mood(
        ranges=ranges,
        constrained=constrained,
        genres=ranked,
        strong_genres=strong,
        genre_fit=genre_fit,
        named_genres=tuple(kept),
        artists=tuple(mentioned),
        tracks=tuple(pair for _, pair in tracks),
        keywords=_keywords(tokens, phrases, negated),
        avoid=tuple(dict.fromkeys(avoid)),
        excluded_genres=excluded_all,
        avoid_artists=tuple(avoid_artists),
        emotion=_emotion(evidence.emotions, ranges),
        decade=decade,
    )


def _hint_scores(hints: Mapping[str, float], kb: Knowledge, text_hinted: Sequence[str]) -> dict[str, float]:
    """Catalog genre → weight of the hints pointing at it (a hint's own genre fully, genres containing it less)."""
    scores: dict[str, float] = {}
    for hint, weight in hints.items():
        found = kb.genres_for_hint(hint)
        has_exact = bool(found) and key(found[0]) == key(hint)
        for rank, genre in enumerate(found):
            # "rock" means rock, and only a little indie rock; "lo-fi" (no such genre) means lo-fi hip hop
            share = 0.25 if has_exact and rank > 0 else 1.0
            scores[genre] = scores.get(genre, 0.0) + weight * share
    for genre in text_hinted:
        scores[genre] = scores.get(genre, 0.0) + 0.5
    return scores


def _ranges(
    evidence: _Evidence, kb: Knowledge, named: Sequence[str], hint_scores: Mapping[str, float]
) -> tuple[dict[str, FeatureRange], tuple[str, ...]]:
    # features nobody asked about follow the genres the prompt points at, else stay neutral
    leaning = list(named) + [g for g, _ in sorted(hint_scores.items(), key=lambda kv: -kv[1]) if g not in named]
    ranges: dict[str, FeatureRange] = {}
    strength: dict[str, float] = {}
    for feature in FEATURES:
        scale = SCALES[feature]
        values = evidence.values[feature]
        floor, ceiling = evidence.floors.get(feature), evidence.ceilings.get(feature)
        if values:
            target = sum(v * w for v, w in values) / sum(w for _, w in values)
            half = scale.half_width
            strength[feature] = sum(w for _, w in values)
        else:
            known = [c for c in (kb.genres[g].get(feature) for g in leaning[:3]) if c is not None]
            target = sum(known) / len(known) if known else scale.neutral
            half = 2 * scale.half_width
            if floor is not None or ceiling is not None:
                strength[feature] = 0.5
        target = scale.clamp(target)
        low, high = scale.clamp(target - half), scale.clamp(target + half)
        if floor is not None:
            low = max(low, floor)
            high = max(high, min(scale.high, floor + half))
        if ceiling is not None:
            high = min(high, ceiling)
            low = min(low, max(scale.low, ceiling - half))
        if not low <= target <= high:
            target = (low + high) / 2
        weight = min(1.0, 0.45 + 0.25 * strength[feature]) if feature in strength else 0.2
        ranges[feature] = FeatureRange(scale.round(low), scale.round(high), scale.round(target), round(weight, 2))
    return ranges, tuple(sorted(strength, key=lambda f: (-strength[f], FEATURES.index(f))))


def _similarity(centroid: Mapping[str, float], targets: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.5
    squared = 0.0
    for feature, weight in weights.items():
        scale = SCALES[feature]
        value = centroid.get(feature, scale.neutral)
        squared += weight * (scale.to_unit(scale.clamp(value)) - scale.to_unit(targets[feature])) ** 2
    return max(0.0, 1.0 - math.sqrt(squared / total) / 0.45)


def _rank_genres(
    kb: Knowledge,
    ranges: Mapping[str, FeatureRange],
    constrained: Sequence[str],
    named: Sequence[str],
    hint_scores: Mapping[str, float],
    excluded: frozenset[str],
) -> tuple[dict[str, float], tuple[str, ...], int]:
    targets = {f: r.target for f, r in ranges.items()}
    weights = {f: ranges[f].weight for f in (constrained or FEATURES)}
    fit: dict[str, float] = {}
    score: dict[str, float] = {}
    for position, genre in enumerate(kb.genres):
        similarity = _similarity(kb.genres[genre], targets, weights)
        bonus = 10.0 - 0.1 * named.index(genre) if genre in named else 0.0
        bonus += 2.0 * hint_scores.get(genre, 0.0)
        score[genre] = -1.0 if genre in excluded else bonus + similarity - position * 1e-6
        fit[genre] = 0.0 if genre in excluded else min(1.0, 0.55 * similarity + min(bonus, 2.0) * 0.25)
    ranked = tuple(sorted(kb.genres, key=lambda g: -score[g]))
    return fit, ranked, sum(1 for g in ranked if score[g] >= 1.6)


def _keywords(
    tokens: Sequence[Token], phrases: Sequence[tuple[int, int, str]], negated: Mapping[int, int]
) -> tuple[str, ...]:
    """Salient words in the order written: cue phrases, genre, artist and title names whole, and other
    content words (not feature names, numbers other than decades, or negated words)."""
    phrase_at = {s: (e, text) for s, e, text in phrases}
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i in phrase_at:
            end, text = phrase_at[i]
            if i not in negated or tokens[i].norm in NEGATORS:
                out.append(text)
            i = end
            continue
        word = tokens[i].norm
        if (
            i not in negated
            and len(word) > 2
            and word not in _NOT_KEYWORDS
            and (not any(c.isdigit() for c in word) or _DECADE.fullmatch(word))
        ):
            out.append(word)
        i += 1
    return tuple(dict.fromkeys(out))


_DARK_EMOTIONS = frozenset({"sadness", "melancholy", "tension", "anger"})


def _emotion(emotions: Mapping[str, float], ranges: Mapping[str, FeatureRange]) -> str:
    energy, valence = ranges["energy"].target, ranges["valence"].target
    # an emotion must agree with the valence ("rainy, nothing sad" is not melancholy)
    fitting = {e: w for e, w in emotions.items() if not (e in _DARK_EMOTIONS and ranges["valence"].low >= 0.4)}
    if fitting:
        return max(fitting.items(), key=lambda kv: kv[1])[0]
    if energy >= 0.7:
        return "excitement" if valence >= 0.45 else "tension"
    if energy <= 0.4:
        return "calm" if valence >= 0.4 else "sadness"
    return "joy" if valence >= 0.6 else "sadness" if valence <= 0.3 else "calm"
