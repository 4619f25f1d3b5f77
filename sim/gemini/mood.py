"""Reading a mood from the words of a prompt: feature ranges, catalog genres, artists and tracks named.

This is where the lexicon meets the catalog. Everything is a pure function of the text and the
vocabulary, so the same prompt always gives the same mood.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .features import FEATURES, SCALES, feature_of
from .lexicon import (
    DECADE_WORDS,
    EMOTION_NEIGHBOURS,
    EMOTIONS,
    NEGATION_FILLER,
    NEGATORS,
    OBSCURE_WORDS,
    REGIONS,
    Cue,
    decade_hints,
    lexicon,
)
from .text import STOPWORDS, Token, key, tokenize
from .vocabulary import Match, VocabIndex, Vocabulary, genres_for_hint, genres_in, index_of

EXPLICIT_WEIGHT = 3.0  # a number the prompt states ("energy 0.8") outweighs any adjective
NAMED_GENRE_WEIGHT = 0.6  # a named genre pulls the features where its centroid is distinctive


@dataclass(frozen=True, slots=True)
class FeatureRange:
    low: float
    high: float
    target: float
    weight: float  # 0–1: how much the prompt cares about this feature


@dataclass(frozen=True)
class Mood:
    text: str  # the words the mood was read from
    ranges: Mapping[str, FeatureRange]  # every feature
    constrained: tuple[str, ...]  # the features the prompt constrains, strongest first
    genres: tuple[str, ...]  # every catalog genre, best fitting first
    strong_genres: int  # how many leading `genres` the prompt points at (named or hinted)
    genre_fit: Mapping[str, float]  # catalog genre → 0–1 fit
    named_genres: tuple[str, ...]
    mentioned_artists: tuple[str, ...]  # named in the mood text
    context_artists: tuple[str, ...]  # named elsewhere in the prompt (e.g. the user's top artists)
    mentioned_tracks: tuple[tuple[str, str], ...]  # (title, artist)
    keywords: tuple[str, ...]
    avoid: tuple[str, ...]  # negated words and phrases
    avoid_genres: tuple[str, ...]
    avoid_artists: tuple[str, ...]
    emotion: str
    decade: int | None
    regions: tuple[str, ...]
    languages: tuple[str, ...]
    obscure: bool
    cue_words: frozenset[str] = field(default_factory=frozenset)

    @property
    def intent(self) -> str:
        if self.mentioned_tracks:
            return "specific_track_similar"
        if self.mentioned_artists:
            return "artist_focus"
        if self.named_genres:
            return "genre_exploration"
        return "mood_variety"

    def top_genres(self, count: int) -> tuple[str, ...]:
        return self.genres[: max(count, 0)]

    def adjectives(self) -> list[str]:
        """Two or three words that describe the mood, for sentences."""
        energy = self.ranges["energy"].target
        valence = self.ranges["valence"].target
        out = ["calm" if energy < 0.38 else "energetic" if energy >= 0.7 else "mid-tempo"]
        out.append("melancholic" if valence < 0.35 else "upbeat" if valence >= 0.65 else "warm")
        if self.ranges["acousticness"].target >= 0.6:
            out.append("acoustic")
        elif self.ranges["instrumentalness"].target >= 0.6:
            out.append("instrumental")
        return out

    def emotion_labels(self) -> list[str]:
        """The mood's emotion, its synonyms, then the nearest other emotions and theirs: for emotion enums."""
        labels = [self.emotion, *EMOTIONS.get(self.emotion, ())]
        for neighbour in EMOTION_NEIGHBOURS.get(self.emotion, ()):
            labels += [neighbour, *EMOTIONS.get(neighbour, ())]
        return list(dict.fromkeys(labels))

    def descriptors(self) -> dict[str, float]:
        """Weighted words describing the mood, used to pick the best value of an enum."""
        bag: dict[str, float] = {}

        def add(word: str, weight: float) -> None:
            bag[word] = max(bag.get(word, 0.0), weight)

        for word in self.keywords:
            for w in word.split():
                add(w, 1.0)
        for word in self.cue_words:
            add(word, 1.0)
        for genre in self.genres[: max(self.strong_genres, 2)]:
            for w in genre.split():
                add(w, 1.5)
        for synonym in EMOTIONS.get(self.emotion, ()):
            add(synonym, 2.0)
        add(self.emotion, 2.5)
        for word in self.adjectives():
            add(word, 1.2)
        if self.decade is not None:
            add(f"{self.decade}s", 2.0)
            add(f"{self.decade % 100:02d}s", 2.0)
        return bag


@dataclass
class _Evidence:
    values: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {f: [] for f in FEATURES})
    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)
    hints: dict[str, float] = field(default_factory=dict)  # genre hint word → weight
    emotions: dict[str, float] = field(default_factory=dict)
    cue_words: set[str] = field(default_factory=set)

    def add_cue(self, cue: Cue, weight: float = 1.0, strength: float = 1.0) -> None:
        """`strength` weighs the cue's emotion: more when the word names the emotion itself ("happy")."""
        for feature, value in cue.features.items():
            self.values[feature].append((value, cue.weight * weight))
        for hint in cue.genres:
            self.hint(hint, cue.weight * weight)
        if cue.emotion:
            self.emotions[cue.emotion] = self.emotions.get(cue.emotion, 0.0) + cue.weight * weight * strength

    def hint(self, genre_word: str, weight: float) -> None:
        self.hints[genre_word] = self.hints.get(genre_word, 0.0) + weight

    def add_genre(self, centroid: Mapping[str, float]) -> None:
        """A genre the prompt names pulls the features where its centroid is distinctive."""
        for feature in FEATURES:
            scale = SCALES[feature]
            value = centroid.get(feature)
            if value is not None and abs(scale.to_unit(scale.clamp(value)) - scale.to_unit(scale.neutral)) > 0.12:
                self.values[feature].append((value, NAMED_GENRE_WEIGHT))

    def add_stated(
        self, targets: Mapping[str, float], floors: Mapping[str, float], ceilings: Mapping[str, float]
    ) -> None:
        for feature, value in targets.items():
            self.values[feature].append((value, EXPLICIT_WEIGHT))
        for feature, value in floors.items():
            self.floors[feature] = max(self.floors.get(feature, value), value)
        for feature, value in ceilings.items():
            self.ceilings[feature] = min(self.ceilings.get(feature, value), value)

    def negate_cue(self, cue: Cue) -> None:
        """ "Nothing sad": a bound on the far side of what the cue asks for, not a target. Only the cue's
        first feature, the one that defines it, is bounded ("not sad" says nothing about energy)."""
        for feature, value in list(cue.features.items())[:1]:
            scale = SCALES[feature]
            step = 2 * scale.half_width
            if value < scale.neutral:
                self.floors[feature] = max(self.floors.get(feature, scale.low), scale.clamp(value + step))
            elif value > scale.neutral:
                self.ceilings[feature] = min(self.ceilings.get(feature, scale.high), scale.clamp(value - step))


_BOUND_WORDS = {
    "above": "floor", "over": "floor", "least": "floor", "min": "floor", "minimum": "floor", ">": "floor",
    ">=": "floor", "below": "ceiling", "under": "ceiling", "most": "ceiling", "max": "ceiling",
    "maximum": "ceiling", "<": "ceiling", "<=": "ceiling",
}  # fmt: skip
_FEATURE_NUMBER = re.compile(
    r"\b([a-z]+)\s*(?:(?:of|around|about|near|roughly|at|is|=|:|~)\s*)*"
    r"(above|over|below|under|at least|at most|min(?:imum)?|max(?:imum)?|>=|<=|>|<)?\s*(-?\d+(?:\.\d+)?)(%?)",
    re.IGNORECASE,
)
_BPM = re.compile(r"\b(\d{2,3})\s*bpm\b", re.IGNORECASE)
_DECADE = re.compile(r"(?<![\w.])(?:(19|20)(\d)0|'?(\d)0)'?s\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-2]\d)\b")
_QUOTED_BY = re.compile(r"[\"“']([^\"”'\n]{1,80})[\"”']\s+by\s+", re.IGNORECASE)
_QUOTES = "\"'“”‘’"
_STOP_SCOPE = frozenset("but though however yet although whereas".split())


def explicit_numbers(text: str) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Feature values a text states ("energy 0.42", "tempo above 120", "95 bpm", "valence: 30%"):
    (targets, floors, ceilings)."""
    targets: dict[str, float] = {}
    floors: dict[str, float] = {}
    ceilings: dict[str, float] = {}
    for match in _FEATURE_NUMBER.finditer(text):
        feature = feature_of(match.group(1).lower())
        if feature is None:
            continue
        scale = SCALES[feature]
        value = float(match.group(3))
        if scale.high == 1.0 and 1 < value <= 100:  # "energy 80" or "energy 80%"
            value /= 100
        if not scale.low <= value <= scale.high:
            continue
        bound = _BOUND_WORDS.get(match.group(2).lower().split()[-1]) if match.group(2) else None
        if bound == "floor":
            floors[feature] = value
        elif bound == "ceiling":
            ceilings[feature] = value
        else:
            targets[feature] = value
    for match in _BPM.finditer(text):
        targets.setdefault("tempo", float(match.group(1)))
    return targets, floors, ceilings


def _decade(text: str, tokens: Sequence[Token]) -> int | None:
    match = _DECADE.search(text)
    if match:
        if match.group(1):
            return int(match.group(1) + match.group(2) + "0")
        digit = int(match.group(3))
        return (1900 if digit >= 3 else 2000) + digit * 10
    for token in tokens:
        if token.norm in DECADE_WORDS:
            return DECADE_WORDS[token.norm]
    year = _YEAR.search(text)
    return int(year.group(1)) // 10 * 10 if year else None


def _punctuation_between(text: str, left: Token, right: Token) -> bool:
    return any(c in ".,;:!?\n()" for c in text[left.end : right.start])


def _negated_positions(text: str, tokens: Sequence[Token]) -> dict[int, int]:
    """Token position → the position of the negator whose reach covers it ("nothing too sad or slow")."""
    negated: dict[int, int] = {}
    for i, token in enumerate(tokens):
        if token.norm not in NEGATORS:
            continue
        content = 0
        for j in range(i + 1, min(len(tokens), i + 8)):
            if _punctuation_between(text, tokens[j - 1], tokens[j]) or tokens[j].norm in _STOP_SCOPE:
                break
            if tokens[j].norm in NEGATION_FILLER or tokens[j].norm in NEGATORS:
                continue
            negated.setdefault(j, i)
            content += 1
            if content >= 3:
                break
    return negated


def _lexicon_spans(tokens: Sequence[Token], taken: set[int]) -> list[tuple[int, int, Cue]]:
    lex = lexicon()
    spans: list[tuple[int, int, Cue]] = []
    i = 0
    norms = [t.norm for t in tokens]
    while i < len(norms):
        for n in range(min(lex.longest, len(norms) - i), 0, -1):
            if any(p in taken for p in range(i, i + n)):
                continue
            cue = lex.phrases.get(tuple(norms[i : i + n]))
            if cue is not None:
                spans.append((i, i + n, cue))
                i += n
                break
        else:
            i += 1
    return spans


_ARTIST_CUES = frozenset(
    "like by from artist artists band bands similar fan fans love loves listen listening play playing featuring "
    "feat ft including".split()
)


def _artist_mentions(tokens: Sequence[Token], index: VocabIndex) -> list[Match]:
    """Artist names in a text: written with capitals, or in lower case where the words around them say an
    artist is meant ("songs like quiet candle", "quiet candle's songs"), so that "a quiet candle-lit dinner"
    does not name the band Quiet Candle."""
    found = []
    for match in index.artist_names.find(tokens):
        capitalised = any(t.raw != t.norm for t in tokens[match.start : match.end])
        before = {t.norm for t in tokens[max(0, match.start - 3) : match.start]}
        after = tokens[match.end].norm if match.end < len(tokens) else ""
        if capitalised or before & _ARTIST_CUES or after in ("s", "songs", "tracks", "music"):
            found.append(match)
    return found


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


def _mentioned_tracks(
    text: str, tokens: Sequence[Token], index: VocabIndex, artists: Sequence[Match]
) -> tuple[list[tuple[str, str]], list[Match]]:
    """Catalog tracks the text names: a title next to its artist's name or in quotes, or a title of two or
    more words written with its capitals. A quoted title followed by "by <catalog artist>" counts too.
    Returns the (title, artist) pairs and where the titles found in the catalog are."""
    named = {a.payload.lower() for a in artists}
    artist_spans = {(a.start, a.end) for a in artists}
    found: list[tuple[str, str]] = []
    matches: list[Match] = []
    for match in index.track_titles.find(tokens):
        versions = index.tracks_by_title[match.payload.lower()]
        by_named = [v for v in versions if v[1].lower() in named]
        first, last = tokens[match.start], tokens[match.end - 1]
        quoted = (first.start > 0 and text[first.start - 1] in _QUOTES) or (
            last.end < len(text) and text[last.end] in _QUOTES
        )
        # a capitalised title that is also an artist's name ("by Broken Saints") is taken as the artist
        exact = (
            match.end - match.start >= 2
            and text[first.start : last.end] == match.payload
            and (match.start, match.end) not in artist_spans
        )
        if by_named or quoted or exact:
            found.append(by_named[0] if by_named else versions[0])
            matches.append(match)
    for quote in _QUOTED_BY.finditer(text):
        title = quote.group(1).strip()
        after = tokenize(text[quote.end() : quote.end() + 120])
        artist_matches = index.artist_names.find(after)
        if artist_matches and artist_matches[0].start == 0 and title:
            pair = (title, artist_matches[0].payload)
            if all(p[0].lower() != title.lower() for p in found):
                found.append(pair)
    return list(dict.fromkeys(found)), matches


def read_mood(focus: str, context: str, vocab: Vocabulary, property_words: frozenset[str] = frozenset()) -> Mood:
    """The mood of `focus` (the user's own words), with artists also looked up in `context` (the rest of
    the prompt). `property_words` are the schema's property names, never taken as keywords."""
    index = index_of(vocab)
    tokens = tokenize(focus)
    negated = _negated_positions(focus, tokens)
    evidence = _Evidence()
    avoid: list[str] = []

    # names first: words inside an artist's name or a track's title ("Sad Sam", "Blue Rain") are not cues
    genre_matches, text_hinted = genres_in(tokens, index)
    genre_positions = {p for m in genre_matches for p in range(m.start, m.end)}
    named: dict[str, int] = {}
    for match in genre_matches:
        named.setdefault(match.payload, match.start)
    artist_matches = _artist_mentions(tokens, index)
    tracks, title_matches = _mentioned_tracks(focus, tokens, index, artist_matches)
    title_positions = {p for m in title_matches for p in range(m.start, m.end)}
    artist_matches = [m for m in artist_matches if not title_positions.intersection(range(m.start, m.end))]
    # "no Hank Hollow": a negated artist is one to avoid, not one the user asks for
    avoid_artists = list(dict.fromkeys(m.payload for m in artist_matches if m.start in negated))
    artist_matches = [m for m in artist_matches if m.start not in negated]
    mentioned = list(dict.fromkeys(m.payload for m in artist_matches))
    name_positions = title_positions | {p for m in artist_matches for p in range(m.start, m.end)}
    spans = _lexicon_spans(tokens, genre_positions | name_positions)

    for start, end, cue in spans:
        phrase = " ".join(t.norm for t in tokens[start:end])
        if start in negated and tokens[start].norm not in NEGATORS:
            evidence.negate_cue(cue)
            avoid.append(phrase)
        else:
            names_emotion = cue.emotion is not None and phrase in EMOTIONS.get(cue.emotion, ())
            evidence.add_cue(cue, strength=2.0 if names_emotion else 1.0)
            evidence.cue_words.update(phrase.split())
    named_kept = [g for g, position in named.items() if position not in negated]
    avoid_genres = [g for g in named if g not in named_kept]
    avoid.extend(avoid_genres + avoid_artists)
    for genre in named_kept:
        evidence.add_genre(vocab.genres[genre])
    for artist in [*mentioned, *(a for _, a in tracks)]:
        for genre in index.artist_genres.get(artist.lower(), ()):
            evidence.hint(genre, 1.0)
    decade = _decade(focus, tokens)
    for hint in decade_hints(decade) if decade is not None else ():
        evidence.hint(hint, 0.8)
    evidence.add_stated(*explicit_numbers(focus))
    # words in a negation's reach that are neither cues nor genres: "no country" when the catalog has none
    covered = {p for s, e, _ in spans for p in range(s, e)} | genre_positions | name_positions
    covered |= {p for m in index.artist_names.find(tokens) for p in range(m.start, m.end)}
    for position in sorted(negated):
        word = tokens[position].norm
        if position not in covered and word not in STOPWORDS and not word.isdigit():
            avoid.append(word)

    hint_scores = _hint_scores(evidence.hints, index, text_hinted)
    ranges, constrained = _ranges(evidence, vocab, named_kept, hint_scores)
    genre_fit, ranked, strong = _rank_genres(vocab, ranges, constrained, named_kept, hint_scores, set(avoid_genres))
    regions, languages = _regions(tokens)
    phrases = [(s, e, " ".join(t.norm for t in tokens[s:e])) for s, e, _ in spans]
    phrases += [(m.start, m.end, m.payload) for m in [*artist_matches, *title_matches, *genre_matches]]
    context_artists = [m.payload for m in _artist_mentions(tokenize(context), index) if m.payload not in mentioned]
    return Mood(
        text=focus,
        ranges=ranges,
        constrained=constrained,
        genres=ranked,
        strong_genres=strong,
        genre_fit=genre_fit,
        named_genres=tuple(named_kept),
        mentioned_artists=tuple(mentioned),
        context_artists=tuple(dict.fromkeys(context_artists)),
        mentioned_tracks=tuple(tracks),
        keywords=_keywords(tokens, phrases, negated, property_words),
        avoid=tuple(dict.fromkeys(avoid)),
        avoid_genres=tuple(avoid_genres),
        avoid_artists=tuple(avoid_artists),
        emotion=_emotion(evidence.emotions, ranges),
        decade=decade,
        regions=regions,
        languages=languages,
        obscure=any(t.norm in OBSCURE_WORDS for t in tokens),
        cue_words=frozenset(evidence.cue_words),
    )


def _hint_scores(hints: Mapping[str, float], index: VocabIndex, text_hinted: Sequence[str]) -> dict[str, float]:
    """Catalog genre → weight of the hints pointing at it (a hint's own genre fully, genres containing it less)."""
    scores: dict[str, float] = {}
    for hint, weight in hints.items():
        found = genres_for_hint(hint, index)
        has_exact = bool(found) and key(found[0]) == key(hint)
        for rank, genre in enumerate(found):
            # "rock" means rock, and only a little indie rock; "lo-fi" (no such genre) means lo-fi hip hop
            share = 0.25 if has_exact and rank > 0 else 1.0
            scores[genre] = scores.get(genre, 0.0) + weight * share
    for genre in text_hinted:
        scores[genre] = scores.get(genre, 0.0) + 0.5
    return scores


def _ranges(
    evidence: _Evidence, vocab: Vocabulary, named: Sequence[str], hint_scores: Mapping[str, float]
) -> tuple[dict[str, FeatureRange], tuple[str, ...]]:
    # features nobody asked about follow the genres the prompt points at, else stay neutral
    leaning = list(named) + [g for g, _ in sorted(hint_scores.items(), key=lambda kv: -kv[1]) if g not in named]
    leaning = leaning[:3]
    ranges: dict[str, FeatureRange] = {}
    strength: dict[str, float] = {}
    for feature in FEATURES:
        scale = SCALES[feature]
        values = evidence.values[feature]
        floor = evidence.floors.get(feature)
        ceiling = evidence.ceilings.get(feature)
        if values:
            total = sum(w for _, w in values)
            target = sum(v * w for v, w in values) / total
            half = scale.half_width
            strength[feature] = total
        else:
            centroids = [vocab.genres[g].get(feature) for g in leaning]
            known = [c for c in centroids if c is not None]
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
    constrained = tuple(sorted(strength, key=lambda f: (-strength[f], FEATURES.index(f))))
    return ranges, constrained


def _rank_genres(
    vocab: Vocabulary,
    ranges: Mapping[str, FeatureRange],
    constrained: Sequence[str],
    named: Sequence[str],
    hint_scores: Mapping[str, float],
    avoided: set[str],
) -> tuple[dict[str, float], tuple[str, ...], int]:
    targets = {f: r.target for f, r in ranges.items()}
    weights = {f: ranges[f].weight for f in (constrained or FEATURES)}
    fit: dict[str, float] = {}
    score: dict[str, float] = {}
    for position, genre in enumerate(vocab.genres):
        similarity = _similarity(vocab.genres[genre], targets, weights)
        bonus = 0.0
        if genre in named:
            bonus = 10.0 - 0.1 * named.index(genre)
        bonus += 2.0 * hint_scores.get(genre, 0.0)
        score[genre] = -1.0 if genre in avoided else bonus + similarity - position * 1e-6
        fit[genre] = 0.0 if genre in avoided else min(1.0, 0.55 * similarity + min(bonus, 2.0) * 0.25)
    ranked = tuple(sorted(vocab.genres, key=lambda g: -score[g]))
    strong = sum(1 for g in ranked if score[g] >= 1.6)
    return fit, ranked, strong


def _regions(tokens: Sequence[Token]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    regions: list[str] = []
    languages: list[str] = []
    norms = [t.norm for t in tokens]
    for i in range(len(norms)):
        for n in (2, 1):
            found = REGIONS.get("".join(norms[i : i + n]))
            if found:
                regions.append(found[0])
                languages.append(found[1])
                break
    return tuple(dict.fromkeys(regions)), tuple(dict.fromkeys(languages))


def _keywords(
    tokens: Sequence[Token],
    phrases: Sequence[tuple[int, int, str]],
    negated: Mapping[int, int],
    property_words: frozenset[str],
) -> tuple[str, ...]:
    """Salient words of the mood text in the order written: cue phrases, genre, artist and title names
    whole, and other content words (not feature names, numbers or the schema's own property names)."""
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
            and word not in STOPWORDS
            and word not in NEGATORS
            and word not in property_words
            and feature_of(word) is None
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
