"""Request checks shared by the gateway's calls. Messages tell the caller what to change."""

from __future__ import annotations

from collections.abc import Sequence

from services.common.errors import InvalidArgument
from services.reccobeat_gateway.rows import is_reccobeats_id, is_valid_id, normalize_id

# What one call may cost: at 40 IDs per upstream request, 250 IDs are at most 7 ReccoBeats calls. segue's own
# callers send a playlist's worth (≤ ~140); a longer list is split by the caller, not fanned out here.
MAX_IDS_PER_REQUEST = 250


def clean_ids(ids: Sequence[str], field: str, *, max_count: int = MAX_IDS_PER_REQUEST) -> dict[str, str]:
    """Normalised ID → the ID as the caller wrote it (first occurrence), in request order, duplicates dropped.

    Counted before anything else (duplicates included), and each ID must match exactly — no surrounding
    whitespace or trailing newline.
    """
    if len(ids) > max_count:
        raise InvalidArgument(f"{field} may hold at most {max_count} IDs per call, got {len(ids)}: split the list")
    cleaned: dict[str, str] = {}
    for index, raw in enumerate(ids):
        if not raw.strip():
            raise InvalidArgument(f"{field}[{index}] is empty")
        if not is_valid_id(raw):
            raise InvalidArgument(f"{field}[{index}] must be a Spotify track ID or a ReccoBeats UUID, got {raw[:80]!r}")
        cleaned.setdefault(normalize_id(raw), raw)
    return cleaned


def page_size(size: int, field: str = "size", *, default: int = 25, maximum: int = 50) -> int:
    if size == 0:
        return default
    if not 1 <= size <= maximum:
        raise InvalidArgument(f"{field} must be 1..{maximum} (0 means {default}), got {size}")
    return size


def reccobeats_id(value: str, field: str) -> str:
    if not is_reccobeats_id(value):
        raise InvalidArgument(f"{field} must be a ReccoBeats UUID (e.g. from SearchArtists), got {value[:80]!r}")
    return value.lower()
