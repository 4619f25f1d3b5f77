"""The mood lexicon: prompt words and phrases → audio-feature targets, genre hints and an emotion.

Feature values are raw targets (tempo in BPM, loudness in dB, the rest 0–1). Genre hints are words matched
against the catalog's genre names (a hint "rock" finds "rock", "indie rock", "classic rock"); hints the
catalog does not have are simply ignored. Keep entries about music and listening situations; the matcher
handles negation ("nothing sad", "no vocals"), so entries describe the positive sense only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from .features import SCALES
from .text import words


@dataclass(frozen=True, slots=True)
class Cue:
    features: Mapping[str, float] = field(default_factory=dict)
    genres: tuple[str, ...] = ()
    emotion: str | None = None
    weight: float = 1.0


def _cue(features: str = "", genres: str = "", emotion: str | None = None, weight: float = 1.0) -> Cue:
    parts = features.split()
    values = {name: float(value) for name, value in zip(parts[::2], parts[1::2], strict=True)}
    unknown = set(values) - set(SCALES)
    if unknown:
        raise ValueError(f"lexicon names unknown features {sorted(unknown)}")
    hints = tuple(g.strip() for g in genres.split(",") if g.strip())
    return Cue(values, hints, emotion, weight)


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


def _parse(table: str) -> tuple[tuple[str, Cue], ...]:
    entries: list[tuple[str, Cue]] = []
    phrases = ""
    for line in table.strip().splitlines():
        line = line.strip()
        if not line.startswith("="):
            phrases += line
            continue
        columns = [c.strip() for c in line[1:].split(";")]
        features, genres, emotion = columns[:3]
        weight = float(columns[3]) if len(columns) > 3 else 1.0
        entries.append((phrases, _cue(features, genres, None if emotion == "-" else emotion, weight)))
        phrases = ""
    return tuple(entries)


_ENTRIES = _parse(_TABLE)

# words asking for lesser-known artists
OBSCURE_WORDS: frozenset[str] = frozenset("underground obscure niche lesser hidden gems rare undiscovered".split())

# emotion label → words that express it, used to match a schema's enum of emotions
EMOTIONS: dict[str, tuple[str, ...]] = {
    "joy": ("joy", "joyful", "happy", "happiness", "cheerful", "upbeat", "elated", "uplifted", "euphoric"),
    "sadness": ("sadness", "sad", "melancholy", "melancholic", "sorrow", "grief", "somber", "heartbreak", "blue"),
    "calm": ("calm", "peaceful", "relaxed", "serene", "tranquil", "chill", "content", "mellow", "soothing"),
    "excitement": ("excitement", "excited", "energetic", "hyped", "thrilled", "energized", "euphoric", "pumped"),
    "anger": ("anger", "angry", "aggressive", "rage", "furious", "defiant"),
    "romance": ("romance", "romantic", "love", "tender", "intimate", "sensual", "passion"),
    "melancholy": ("melancholy", "melancholic", "wistful", "reflective", "pensive", "bittersweet", "moody"),
    "nostalgia": ("nostalgia", "nostalgic", "wistful", "sentimental", "bittersweet"),
    "focus": ("focus", "focused", "concentration", "concentrated", "determined", "productive"),
    "confidence": ("confidence", "confident", "empowered", "bold", "determination", "powerful"),
    "awe": ("awe", "epic", "triumphant", "wonder", "inspired"),
    "tension": ("tension", "tense", "anxious", "dark", "ominous", "brooding"),
    "dreaminess": ("dreamy", "dreaminess", "ethereal", "wonder"),
    "hope": ("hope", "hopeful", "optimistic", "optimism", "inspired", "uplifting"),
}

# emotion → the closest other labels, for enums that lack the mood's own label
EMOTION_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "joy": ("hope", "excitement", "confidence"),
    "sadness": ("melancholy", "nostalgia", "calm"),
    "calm": ("focus", "dreaminess", "romance", "joy"),
    "excitement": ("joy", "confidence", "awe"),
    "anger": ("tension", "excitement"),
    "romance": ("calm", "joy"),
    "melancholy": ("sadness", "nostalgia", "calm"),
    "nostalgia": ("melancholy", "joy", "sadness"),
    "focus": ("calm", "confidence"),
    "confidence": ("excitement", "joy"),
    "awe": ("excitement", "hope"),
    "tension": ("anger", "sadness"),
    "dreaminess": ("calm", "melancholy"),
    "hope": ("joy", "calm"),
}

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
DECADE_WORDS: dict[str, int] = {
    "fifties": 1950,
    "sixties": 1960,
    "seventies": 1970,
    "eighties": 1980,
    "nineties": 1990,
    "y2k": 2000,
    "noughties": 2000,
}

# words → (region, language), for region and language fields
REGIONS: dict[str, tuple[str, str]] = {
    "latin": ("Latin America", "Spanish"),
    "spanish": ("Spain", "Spanish"),
    "mexican": ("Mexico", "Spanish"),
    "reggaeton": ("Latin America", "Spanish"),
    "salsa": ("Latin America", "Spanish"),
    "brazilian": ("Brazil", "Portuguese"),
    "bossa": ("Brazil", "Portuguese"),
    "korean": ("South Korea", "Korean"),
    "kpop": ("South Korea", "Korean"),
    "japanese": ("Japan", "Japanese"),
    "jpop": ("Japan", "Japanese"),
    "anime": ("Japan", "Japanese"),
    "french": ("France", "French"),
    "chanson": ("France", "French"),
    "german": ("Germany", "German"),
    "italian": ("Italy", "Italian"),
    "african": ("West Africa", "English"),
    "afrobeats": ("West Africa", "English"),
    "nigerian": ("Nigeria", "English"),
    "indian": ("India", "Hindi"),
    "bollywood": ("India", "Hindi"),
    "british": ("United Kingdom", "English"),
    "uk": ("United Kingdom", "English"),
    "grime": ("United Kingdom", "English"),
    "american": ("United States", "English"),
    "arabic": ("Middle East", "Arabic"),
}

# words that turn the following few words into things to avoid
NEGATORS: frozenset[str] = frozenset(
    "no not nothing without avoid avoiding never none except excluding exclude minus less don dont isn "
    "aren skip hate hates".split()
)
# words inside a negation's reach that neither end it nor get negated ("nothing *too* sad")
NEGATION_FILLER: frozenset[str] = frozenset(
    "too very overly so any anything that t want wanna please really super songs song tracks music stuff "
    "or nor and".split()
)


@dataclass(frozen=True, slots=True)
class Lexicon:
    phrases: Mapping[tuple[str, ...], Cue]
    longest: int


@cache
def lexicon() -> Lexicon:
    phrases: dict[tuple[str, ...], Cue] = {}
    for spelled, cue in _ENTRIES:
        for phrase in spelled.split("|"):
            phrases[tuple(words(phrase))] = cue
    return Lexicon(phrases, max(len(p) for p in phrases))


def decade_hints(decade: int) -> tuple[str, ...]:
    return tuple(g.strip() for g in DECADES.get(decade, "").split(",") if g.strip())
