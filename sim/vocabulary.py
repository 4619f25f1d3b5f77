"""What the fake Gemini "knows" about music, taken from the catalog."""

from __future__ import annotations

import functools

from sim.catalog import Catalog
from sim.gemini import Vocabulary
from sim.gemini.vocabulary import index_of

VOCABULARY_TRACKS = 5_000  # the most popular tracks: enough to recognise well-known titles in prompts


@functools.lru_cache(maxsize=4)  # one per catalog; sim.gemini indexes a Vocabulary by identity
def vocabulary_for(catalog: Catalog) -> Vocabulary:
    """Genres with centroids (raw units), every artist with its genres, the most popular track titles."""
    popular = sorted(catalog.tracks, key=lambda t: (-t.popularity, t.index))[:VOCABULARY_TRACKS]
    vocabulary = Vocabulary(
        genres={g.name: dict(g.centroid) for g in catalog.genres},
        artists=[(a.name, list(a.genres)) for a in catalog.artists],
        tracks=[(t.title, catalog.artists[t.artist_indices[0]].name) for t in popular],
    )
    index_of(vocabulary)  # its lookups take ~0.1 s to build: now, not inside the first Gemini call
    return vocabulary
