"""The simulator's synthetic music catalog, shared by the three fake upstreams."""

from sim.catalog.build import build_catalog as build_catalog
from sim.catalog.genres import FEATURE_RANGES as FEATURE_RANGES
from sim.catalog.genres import FEATURES as FEATURES
from sim.catalog.model import Album as Album
from sim.catalog.model import Artist as Artist
from sim.catalog.model import Catalog as Catalog
from sim.catalog.model import CatalogSizes as CatalogSizes
from sim.catalog.model import Genre as Genre
from sim.catalog.model import Track as Track
