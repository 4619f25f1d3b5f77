"""Identifiers drawn from a seeded generator: Spotify base-62 IDs, ReccoBeats UUIDs v4, ISRCs."""

from __future__ import annotations

import numpy as np

BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
ISRC_COUNTRIES = ("US", "GB", "SE", "DE", "FR", "JP", "KR", "BR", "CA", "AU", "NL", "NG", "IN", "MX", "ES")


def spotify_ids(rng: np.random.Generator, count: int) -> list[str]:
    """`count` distinct 22-character base-62 IDs."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < count:
        missing = count - len(out)
        text = BASE62[rng.integers(0, 62, size=(missing, 22))].tobytes().decode("ascii")
        for i in range(missing):
            sid = text[i * 22 : i * 22 + 22]
            if sid not in seen:  # a collision is astronomically rare, but IDs must be unique
                seen.add(sid)
                out.append(sid)
    return out


def uuid4s(rng: np.random.Generator, count: int) -> list[str]:
    """`count` distinct UUID v4 strings (version and variant bits set as RFC 9562 requires)."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    text = raw.tobytes().hex()
    out = [
        f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in (text[i * 32 : i * 32 + 32] for i in range(count))
    ]
    if len(set(out)) != count:
        raise RuntimeError("UUID collision; use another seed")
    return out


def isrcs(rng: np.random.Generator, artist_of_track: np.ndarray, years: np.ndarray) -> list[str]:
    """ISRC per track: country + a registrant code per artist + 2-digit year + a unique designation."""
    n_artists = int(artist_of_track.max()) + 1 if len(artist_of_track) else 0
    country = rng.integers(0, len(ISRC_COUNTRIES), size=n_artists)
    registrant = BASE62[rng.integers(10, 36, size=(n_artists, 3))].tobytes().decode("ascii")  # A-Z
    codes = [ISRC_COUNTRIES[int(c)] + registrant[i * 3 : i * 3 + 3] for i, c in enumerate(country)]
    return [
        f"{codes[int(a)]}{int(y) % 100:02d}{i % 100_000:05d}"
        for i, (a, y) in enumerate(zip(artist_of_track, years, strict=True))
    ]
