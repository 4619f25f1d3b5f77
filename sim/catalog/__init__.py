"""The simulator's synthetic music catalog, shared by the three fake upstreams."""

from sim.catalog.build import build_catalog
from sim.catalog.genres import FEATURE_RANGES, FEATURES
from sim.catalog.model import Album, Artist, Catalog, CatalogSizes, Genre, Track

__all__ = [
    "FEATURES",
    "FEATURE_RANGES",
    "Album",
    "Artist",
    "Catalog",
    "CatalogSizes",
    "Genre",
    "Track",
    "build_catalog",
]
