"""Word lists and the name generators for artists, tracks and albums.

Names are built from ordinary words so they read like names and a search for any word of one finds it.
Each genre has a naming style (a rapper is "Lil Ember", a jazz act "Nina Okafor Quartet", a classical
track "Nocturne No. 2 in E-flat major").
"""

from __future__ import annotations

import random
from collections.abc import Callable

ADJECTIVES = (
    "Golden Silver Velvet Electric Midnight Crimson Quiet Wild Broken Lonely Neon Hollow Bright Paper Glass "
    "Silent Distant Frozen Burning Gentle Restless Secret Faded Violet Blue Amber Lucky Little Sunday Summer "
    "Winter Autumn Northern Southern Lazy Sweet Bitter Hidden Endless Cosmic Crystal Copper Honey Sleepy "
    "Dizzy Rapid Tender Salty Shallow Deep Heavy Soft Loud Rusty Wooden Open Final Early Late Young Old "
    "Sacred Savage Pale Dusty Misty Stormy Sunny Lunar Solar Urban Rural Tiny Giant Strange Holy Royal"
).split()
NOUNS = (
    "Heart River Ocean Fire Shadow Dream Echo Mirror Garden Window Highway Harbor Canyon Forest Storm Thunder "
    "Rain Moon Star Sun Sky Cloud Wave Tide Road Train Letter Photograph Candle Lantern Compass Anchor Feather "
    "Horizon Desert Island Valley Mountain Meadow Orchard Kingdom Empire Castle Tower Bridge Station Avenue "
    "Boulevard Alley Rooftop Balcony Velvet Satellite Rocket Signal Radio Static Circuit Machine Engine "
    "Pulse Rhythm Melody Harmony Chorus Anthem Lullaby Ballad Story Secret Promise Memory Moment Season "
    "Morning Evening Midnight Sunrise Sunset Twilight Diamond Pearl Ember Ash Smoke Dust Stone Glass Paper "
    "Silk Honey Sugar Whiskey Coffee Cherry Lemon Orange Tiger Wolf Raven Sparrow Fox Lion Horse Swan"
).split()
PLURALS = (
    "Wolves Ravens Sparrows Foxes Lions Horses Swans Tigers Strangers Lovers Dreamers Drifters Wanderers "
    "Kings Queens Saints Sinners Ghosts Angels Machines Rockets Satellites Echoes Shadows Mirrors Rivers "
    "Oceans Storms Stars Clouds Waves Roads Trains Letters Lanterns Anchors Feathers Islands Valleys "
    "Mountains Gardens Kingdoms Towers Bridges Stations Signals Circuits Engines Diamonds Pearls Embers"
).split()
FIRST_NAMES = (
    "Maya Leo Nina Oscar Clara Felix Ava Hugo Iris Jonah Lena Marco Nora Omar Priya Quinn Rosa Sami Tara "
    "Victor Wren Yara Zane Elena Milo Ines Theo Lucia Arlo Freya Mateo Alma Kai Esme Rafael Sofia Julian "
    "Amara Dario Greta Hana Ivan Jade Kofi Liv Mina Nico Olive Pablo Rhea Silas Talia Uma Vera Wade Ximena "
    "Yusuf Zora Anya Bruno Cleo Dev Elio June Kenji Lior Mara Noor Otis Paloma Remy Selma Tobias Ada"
).split()
LAST_NAMES = (
    "Rivers Hart Stone Vale Moreau Okafor Lindqvist Castillo Nakamura Petrov Haddad Fischer Romano Silva "
    "Novak Kowalski Brennan Delgado Mercer Whitfield Ashby Calloway Dumont Everly Faraday Garland Holloway "
    "Ibarra Jansen Kaplan Laurent Madsen Navarro Osei Pereira Quintero Rahman Sorensen Tanaka Ueda Varga "
    "Winslow Yilmaz Zeller Abbott Bishop Carver Doyle Ellison Fontaine Grady Hayes Ingram Jovanovic Kerr"
).split()
PLACES = (
    "Tokyo Paris Lisbon Berlin Havana Cairo Seoul Lagos Oslo Rio Memphis Brooklyn Kyoto Marseille Dublin "
    "Nairobi Mumbai Istanbul Chicago Detroit Vienna Prague Santiago Manila Bogota Sydney Reykjavik Madrid"
).split()
VERBS = (
    "Dancing Running Falling Dreaming Waiting Driving Flying Burning Shining Drifting Chasing Holding "
    "Breaking Fading Floating Singing Walking Calling Racing Sleeping Wandering Rising Sinking Turning"
).split()
KPOP_WORDS = (
    "NOVA LUMINA ASTERA VIVID ECLIPSE STELLAR AURORA BLOSSOM PRISM ZENITH ORBIT NEBULA RADIANT SAPPHIRE "
    "MIRAGE VELOUR HALO COMET SPARKLE TEMPO DAZZLE ECHO FLARE GLOW IRIS JEWEL KALEIDO LUNA MOXIE"
).split()
ENSEMBLES = ("Trio", "Quartet", "Quintet", "Ensemble", "Orchestra", "Collective", "Big Band")
CLASSICAL_FORMS = (
    "Nocturne Sonata Prelude Etude Fugue Concerto Symphony Suite Serenade Rhapsody Fantasia Ballade Waltz "
    "Impromptu Partita Toccata Adagio Requiem Aria Cantata Mazurka Scherzo Overture Romance"
).split()
KEYS = (
    "C major|C minor|D major|D minor|E-flat major|E minor|F major|F minor|G major|G minor|A major|A minor|"
    "B-flat major|B minor"
).split("|")
ORCHESTRA_KINDS = ("Philharmonic", "Chamber Orchestra", "Symphony Orchestra", "String Quartet", "Consort")
MIX_WORDS = ("Extended Mix", "Radio Edit", "Club Mix", "Dub", "Original Mix", "Remix")


def _by_roll(r: random.Random, *options: tuple[float, Callable[[], str]]) -> str:
    """One draw picks the first option whose cumulative share is above it; the last option's share is 1."""
    roll = r.random()
    return next(make for share, make in options if roll < share)()


def _person(r: random.Random) -> str:
    return f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}"


def _artist_person(r: random.Random) -> str:
    return _by_roll(r, (0.12, lambda: r.choice(FIRST_NAMES).upper()), (1, lambda: _person(r)))


def _artist_band(r: random.Random) -> str:
    return _by_roll(
        r,
        (0.35, lambda: f"The {r.choice(ADJECTIVES)} {r.choice(PLURALS)}"),
        (0.6, lambda: f"{r.choice(ADJECTIVES)} {r.choice(PLURALS)}"),
        (0.75, lambda: f"{r.choice(NOUNS)} {r.choice(PLURALS)}"),
        (0.88, lambda: f"{r.choice(PLURALS)} of {r.choice(PLACES)}"),
        (1, lambda: f"{r.choice(FIRST_NAMES)} & the {r.choice(PLURALS)}"),
    )


def _artist_rapper(r: random.Random) -> str:
    return _by_roll(
        r,
        (0.25, lambda: f"Lil {r.choice(NOUNS)}"),
        (0.45, lambda: f"{r.choice(ADJECTIVES)}{r.choice(NOUNS).lower()}"),
        (0.6, lambda: f"MC {r.choice(LAST_NAMES)}"),
        (0.75, lambda: f"Young {r.choice(NOUNS)}"),
        (1, lambda: f"{r.choice(FIRST_NAMES)} {r.choice(NOUNS)}"),
    )


def _artist_dj(r: random.Random) -> str:
    return _by_roll(
        r,
        (0.3, lambda: f"DJ {r.choice(FIRST_NAMES)}"),
        (0.6, lambda: f"{r.choice(ADJECTIVES)} {r.choice(NOUNS)}"),
        (0.8, lambda: f"{r.choice(NOUNS)}{r.choice(('x', 'tronic', 'wave', 'flux', 'core'))}"),
        (1, lambda: _person(r)),
    )


def _artist_producer(r: random.Random) -> str:
    return _by_roll(
        r,
        (0.4, lambda: f"{r.choice(NOUNS).lower()}.{r.choice(NOUNS).lower()}"),
        (0.75, lambda: f"{r.choice(ADJECTIVES)} {r.choice(NOUNS)}"),
        (1, lambda: _person(r)),
    )


def _artist_kpop(r: random.Random) -> str:
    return _by_roll(
        r, (0.6, lambda: r.choice(KPOP_WORDS)), (1, lambda: f"{r.choice(KPOP_WORDS)} {r.choice(KPOP_WORDS)}")
    )


def _artist_ensemble(r: random.Random) -> str:
    return _by_roll(r, (0.55, lambda: f"{_person(r)} {r.choice(ENSEMBLES)}"), (1, lambda: _person(r)))


def _artist_classical(r: random.Random) -> str:
    return _by_roll(r, (0.35, lambda: f"{r.choice(PLACES)} {r.choice(ORCHESTRA_KINDS)}"), (1, lambda: _person(r)))


ARTIST_STYLES: dict[str, Callable[[random.Random], str]] = {
    "person": _artist_person,
    "band": _artist_band,
    "rapper": _artist_rapper,
    "dj": _artist_dj,
    "producer": _artist_producer,
    "kpop": _artist_kpop,
    "ensemble": _artist_ensemble,
    "classical": _artist_classical,
    "composer": lambda r: _person(r),
}


def artist_name(style: str, r: random.Random) -> str:
    return ARTIST_STYLES[style](r)


def _phrase_title(r: random.Random) -> str:
    return _by_roll(
        r,
        (0.28, lambda: f"{r.choice(ADJECTIVES)} {r.choice(NOUNS)}"),
        (0.42, lambda: f"{r.choice(NOUNS)} of {r.choice(NOUNS)}"),
        (0.54, lambda: f"{r.choice(VERBS)} in {r.choice(PLACES)}"),
        (0.66, lambda: r.choice(NOUNS)),
        (0.76, lambda: f"The {r.choice(NOUNS)}"),
        (0.86, lambda: f"{r.choice(VERBS)} {r.choice(PLURALS)}"),
        (0.94, lambda: f"{r.choice(ADJECTIVES)} {r.choice(PLURALS)}"),
        (1, lambda: f"{r.choice(NOUNS)} & {r.choice(NOUNS)}"),
    )


def _classical_title(r: random.Random) -> str:
    form = r.choice(CLASSICAL_FORMS)
    if r.random() < 0.5:
        return f"{form} No. {r.randint(1, 24)} in {r.choice(KEYS)}"
    return f"{form} in {r.choice(KEYS)}, Op. {r.randint(1, 120)}"


def track_title(style: str, r: random.Random) -> str:
    if style in ("classical", "composer") and r.random() < 0.8:
        return _classical_title(r)
    title = _phrase_title(r)
    if style == "dj" and r.random() < 0.3:
        return f"{title} ({r.choice(MIX_WORDS)})"
    return title


def album_title(r: random.Random) -> str:
    return _by_roll(
        r,
        (0.4, lambda: f"{r.choice(ADJECTIVES)} {r.choice(PLURALS)}"),
        (0.7, lambda: f"{r.choice(NOUNS)} {r.choice(('Sessions', 'Tapes', 'Stories', 'Nights', 'Days'))}"),
        (1, lambda: f"The {r.choice(ADJECTIVES)} {r.choice(NOUNS)}"),
    )
