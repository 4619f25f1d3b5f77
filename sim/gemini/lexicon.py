"""Words the fake model knows: audio-feature scales, the mood lexicon, stopwords, tokenizing.

Feature values are raw targets (tempo in BPM, loudness in dB, the rest 0–1). A lexicon entry's genre hints
are words matched against the catalog's genre names ("rock" finds rock, indie rock, classic rock); hints the
catalog lacks are ignored. Entries describe the positive sense only: the mood reader handles negation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from sim.catalog.genres import FEATURES as FEATURES


@dataclass(frozen=True, slots=True)
class Scale:
    low: float
    high: float
    neutral: float  # what an unconstrained mood targets
    half_width: float  # half the width of a mood's range for a constrained feature
    digits: int  # how answers round it

    def clamp(self, value: float) -> float:
        return min(self.high, max(self.low, value))

    def round(self, value: float) -> float:
        return round(value, self.digits)

    def to_unit(self, value: float) -> float:
        return (value - self.low) / (self.high - self.low)


_UNIT = Scale(0.0, 1.0, 0.5, 0.15, 2)
SCALES: dict[str, Scale] = {
    "acousticness": Scale(0.0, 1.0, 0.35, 0.15, 2),
    "danceability": _UNIT,
    "energy": _UNIT,
    "instrumentalness": Scale(0.0, 1.0, 0.15, 0.15, 2),
    "liveness": Scale(0.0, 1.0, 0.15, 0.1, 2),
    "loudness": Scale(-60.0, 0.0, -8.0, 3.0, 1),
    "speechiness": Scale(0.0, 1.0, 0.07, 0.05, 2),
    "tempo": Scale(0.0, 250.0, 112.0, 15.0, 0),
    "valence": _UNIT,
}
# other words that name a feature in prompts ("95 bpm", "happiness 0.8")
_ALIASES = {"acoustic": "acousticness", "dance": "danceability", "danceable": "danceability",
            "instrumental": "instrumentalness", "live": "liveness", "loud": "loudness", "volume": "loudness",
            "speech": "speechiness", "bpm": "tempo", "happiness": "valence", "positivity": "valence"}  # fmt: skip
FEATURE_WORDS = {**{f: f for f in SCALES}, **_ALIASES}  # word → the feature it names


@dataclass(frozen=True, slots=True)
class Cue:
    features: Mapping[str, float] = field(default_factory=dict)
    genres: tuple[str, ...] = ()
    emotion: str | None = None
    weight: float = 1.0


# One entry: phrases separated by "|" (continued on following lines while a line ends with "|"), then a line
# "= features ; genre hints ; emotion (or -) [; weight]". The first feature is the one that defines the entry:
# a negation ("nothing sad") bounds that feature only. Multi-word phrases win over their single words.
_TABLE = """
rain|rainy|raining|drizzle|storm|stormy|grey|gray|cloudy|overcast|thunderstorm
    = acousticness 0.7 valence 0.3 energy 0.3 tempo 88 ; jazz, lo-fi, folk, ambient, singer-songwriter ; melancholy
sunny|sunshine|summer|summertime|beach|tropical|poolside
    = valence 0.8 energy 0.7 danceability 0.72 ; pop, reggae, latin, afrobeats, dance pop ; joy
winter|snow|snowy|cold|frosty
    = acousticness 0.65 valence 0.35 energy 0.3 ; folk, ambient, classical, piano ; calm
autumn|cozy|cosy|fireplace|hygge
    = acousticness 0.72 energy 0.33 valence 0.5 ; folk, indie folk, jazz, acoustic ; calm
spring|blossom|fresh
    = valence 0.7 energy 0.55 acousticness 0.45 ; indie pop, folk, pop ; hope
night|midnight|late night|nighttime|after hours|3am
    = energy 0.4 valence 0.38 tempo 96 ; r&b, lo-fi, downtempo, jazz, synthwave ; calm ; 0.7
morning|sunrise|breakfast|coffee|wake up
    = valence 0.65 energy 0.45 acousticness 0.6 ; indie folk, folk, bossa nova, indie pop ; hope ; 0.8
evening|sunset|dusk|golden hour
    = valence 0.55 energy 0.4 acousticness 0.5 ; soul, bossa nova, indie pop, jazz ; calm ; 0.7
drive|driving|road trip|roadtrip|cruising|highway
    = energy 0.7 valence 0.65 tempo 116 ; rock, classic rock, indie rock, synthwave, pop ; excitement
city|urban|downtown|streets
    = energy 0.62 danceability 0.68 speechiness 0.12 ; hip hop, r&b, house ; - ; 0.6
forest|nature|mountains|hiking|camping
    = acousticness 0.75 energy 0.4 instrumentalness 0.35 ; folk, indie folk, ambient, bluegrass ; calm
workout|gym|training|running|run|cardio|lifting|exercise|sprint|hiit|crossfit
    = energy 0.9 danceability 0.72 tempo 134 valence 0.6 loudness -5 ; edm, hip hop, rock, metal, trap ; excitement
party|club|clubbing|dancing|dance floor|rave|pregame|celebration
    = energy 0.85 danceability 0.85 valence 0.75 tempo 124 loudness -5 ; dance pop, edm, house, pop, disco ; excitement
study|studying|focus|focused|concentration|concentrate|deep work|reading|coding|homework|productive
    = instrumentalness 0.8 speechiness 0.04 energy 0.35 valence 0.5 ; lo-fi, ambient, classical, piano ; focus
sleep|sleeping|bedtime|lullaby|insomnia|nap
    = energy 0.1 tempo 68 acousticness 0.88 instrumentalness 0.85 loudness -22 ; ambient, new age, piano ; calm
relax|relaxing|relaxed|chill|chilled|chillout|calm|calming|peaceful|unwind|laid back|easygoing|serene|
tranquil
    = energy 0.3 valence 0.55 acousticness 0.6 tempo 92 ; downtempo, lo-fi, ambient, bossa nova, chill ; calm
meditation|meditate|yoga|spa|mindfulness|breathing
    = energy 0.12 acousticness 0.8 instrumentalness 0.88 tempo 72 loudness -20 ; ambient, new age ; calm
dinner|cooking|brunch|wine
    = energy 0.4 valence 0.62 acousticness 0.6 ; jazz, soul, bossa nova, smooth jazz ; calm ; 0.8
romantic|romance|love songs|date night|sensual|intimate|candlelight
    = valence 0.6 energy 0.4 acousticness 0.5 danceability 0.58 ; r&b, soul, neo soul, jazz ; romance
wedding
    = valence 0.8 energy 0.6 danceability 0.65 ; soul, pop, disco ; joy
gaming|video game|boss fight
    = energy 0.8 instrumentalness 0.7 ; synthwave, edm, soundtrack, phonk ; excitement
happy|joy|joyful|cheerful|upbeat|feel good|feelgood|uplifting|bright|fun|playful|sunny day|good vibes
    = valence 0.85 energy 0.7 danceability 0.66 ; pop, dance pop, funk, disco, indie pop ; joy
sad|sadness|melancholy|melancholic|heartbreak|heartbroken|breakup|break up|lonely|loneliness|depressed|
depressing|blue|crying|cry|tears|grief|grieving|somber|sombre|gloomy|bittersweet
    = valence 0.15 energy 0.28 acousticness 0.62 tempo 80 ; singer-songwriter, indie folk, folk, blues, piano ; sadness
angry|anger|rage|aggressive|furious|mad|frustrated
    = energy 0.95 valence 0.22 loudness -4 tempo 140 ; metal, punk, hip hop, grunge, death metal ; anger
nostalgic|nostalgia|throwback|memories|retro|reminiscing|old school
    = valence 0.6 acousticness 0.4 ; classic rock, soul, disco, synthwave, city pop ; nostalgia
epic|cinematic|triumphant|heroic|majestic|orchestral
    = energy 0.72 instrumentalness 0.65 loudness -9 ; soundtrack, classical, post-rock ; awe
dark|moody|brooding|eerie|haunting|ominous|sinister|gothic
    = valence 0.18 energy 0.5 ; trip hop, ambient, dark, post-rock, phonk ; tension
dreamy|ethereal|floaty|hazy|atmospheric
    = energy 0.35 instrumentalness 0.45 acousticness 0.4 ; shoegaze, ambient, downtempo, dream pop ; dreaminess
energetic|energy boost|high energy|hype|hyped|pumped|intense|powerful|adrenaline|explosive
    = energy 0.9 tempo 130 loudness -5 danceability 0.7 ; edm, rock, hip hop, drum and bass ; excitement
confident|swagger|empowering|empowered|boss|badass
    = valence 0.62 energy 0.75 speechiness 0.18 ; hip hop, trap, pop ; confidence
anxious|anxiety|tense|nervous|stressed|stress
    = valence 0.3 energy 0.6 ; trip hop, electronic ; tension ; 0.7
hopeful|optimistic|inspiring|inspirational|motivational|motivated|motivation|positive
    = valence 0.75 energy 0.65 ; pop, indie pop, gospel, rock ; hope
sexy|seductive|steamy|slow jam|slow jams
    = danceability 0.7 energy 0.45 valence 0.5 ; r&b, neo soul ; romance
slow|slower|downtempo|gentle|soft|quiet|soothing|mellow|lazy|sleepy|slowed|low energy|low key|lowkey
    = tempo 76 energy 0.25 loudness -13 ;  ; -
fast|faster|quick|uptempo|up tempo|speedy|high tempo|frantic
    = tempo 140 energy 0.8 ;  ; -
loud|heavy|hard|banging|bangers|banger|headbanging
    = loudness -4 energy 0.88 ; metal, rock, hard rock, dubstep ; -
acoustic|unplugged|stripped|stripped down|organic
    = acousticness 0.88 energy 0.35 ; folk, singer-songwriter, acoustic ; -
instrumental|instrumentals|no vocals|no lyrics|without vocals|without lyrics|wordless|no singing
    = instrumentalness 0.85 speechiness 0.04 ; ambient, post-rock, classical, lo-fi ; -
vocals|singing|sing along|singalong|karaoke|anthems|anthem
    = instrumentalness 0.03 speechiness 0.07 ; pop ; - ; 0.7
live|concert|live recordings|live versions|in concert
    = liveness 0.75 ;  ; -
spoken|spoken word|storytelling|bars|rap
    = speechiness 0.3 ; hip hop, grime, trap ; -
danceable|groovy|groove|funky|bouncy|boogie
    = danceability 0.82 valence 0.7 ; funk, disco, house ; joy
electronic|synth|synths|synthy|electronica|digital
    = acousticness 0.06 ; edm, synthwave, house, techno ; -
smooth|silky|velvet
    = energy 0.4 acousticness 0.45 ; smooth jazz, r&b, neo soul ; calm ; 0.7
raw|gritty|distorted|noisy
    = energy 0.8 loudness -6 acousticness 0.1 ; grunge, punk, shoegaze ; - ; 0.8
jazzy
    = acousticness 0.65 instrumentalness 0.4 ; jazz, smooth jazz ; -
lofi|lo fi|lo-fi beats|chillhop|beats to study
    = energy 0.32 instrumentalness 0.78 tempo 82 ; lo-fi ; calm
"""


@cache
def lexicon() -> dict[tuple[str, ...], Cue]:
    """Every phrase of the table, as its normalised words, with its cue."""
    phrases: dict[tuple[str, ...], Cue] = {}
    spelled = ""
    for line in _TABLE.strip().splitlines():
        line = line.strip()
        if not line.startswith("="):
            spelled += line
            continue
        columns = [c.strip() for c in line[1:].split(";")]
        parts = columns[0].split()
        values = {name: float(value) for name, value in zip(parts[::2], parts[1::2], strict=True)}
        assert set(values) <= set(SCALES), values
        hints = tuple(g.strip() for g in columns[1].split(",") if g.strip())
        weight = float(columns[3]) if len(columns) > 3 else 1.0
        cue = Cue(values, hints, None if columns[2] == "-" else columns[2], weight)
        for phrase in spelled.split("|"):
            phrases[tuple(words(phrase))] = cue
        spelled = ""
    return phrases


# grammar, instruction vocabulary and generic music words: never keywords, never avoided on their own
STOPWORDS: frozenset[str] = frozenset(
    """
    a an the and or but if then than so as of to in on at by for from with into onto about over under up
    down out off is are was were be been being am do does did doing have has had having will would can
    could should shall may might must i me my mine we us our you your he she it its they them their this
    that these those there here what which who whom whose when where why how all any both each few more
    most other some such only own same too very just also not no nor yet still ever even really quite
    much many lot lots bit little something anything everything nothing someone please want wants wanted
    need needs like likes love get got give gives make makes made let lets feel feels feeling kind sort
    type stuff thing things way ways use using used one ones s t d ll m re ve
    json return returns respond response answer output format field fields key keys value values schema
    object objects array list lists string strings number numbers integer boolean null true false
    include including provide analyze analyse analysis describe identify extract choose select pick
    based given following below above per user users prompt request query task tasks note notes
    music song songs track tracks playlist playlists artist artists genre genres mood moods vibe vibes
    listen listening play playing hear some around maybe recommend recommendation recommendations suggest
    create build generate find curate curated playlist
    """.split()
)

_WORD = re.compile(r"[^\W_]+|&", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Token:
    norm: str  # lower case
    start: int  # offsets in the text it came from
    end: int


def tokenize(text: str) -> list[Token]:
    """Alphanumeric runs; "&" counts as the word "and" so "R&B" reads as "r and b"."""
    return [Token("and" if m.group() == "&" else m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def words(text: str) -> list[str]:
    return [t.norm for t in tokenize(text)]


def key(text: str) -> str:
    """Spacing- and punctuation-insensitive: "Lo-Fi", "lofi" and "lo fi" all give "lofi"."""
    return "".join(words(text))


def join_words(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""
