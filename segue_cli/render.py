"""What the `segue` command prints: a playlist, its mood, timings and warnings as text or JSON, and failures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import Message
from segue.v1 import common_pb2, orchestrator_pb2

from services.common import features

_SOURCE = {
    common_pb2.TRACK_SOURCE_RECOMMENDATION: "recommended",
    common_pb2.TRACK_SOURCE_USER_TOP: "your top",
    common_pb2.TRACK_SOURCE_MOOD_SEARCH: "mood search",
    common_pb2.TRACK_SOURCE_ARTIST_DISCOVERY: "discovered",
    common_pb2.TRACK_SOURCE_USER_MENTIONED: "you named",
}


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def playlist(response: orchestrator_pb2.RecommendResponse) -> str:
    rows = []
    for n, entry in enumerate(response.tracks, 1):
        t = entry.track
        f = t.audio_features if t.HasField("audio_features") else None
        rows.append(
            [
                str(n),
                _clip(t.title, 34),
                _clip(", ".join(a.name for a in t.artists), 26),
                f"{f.energy:.2f}" if f else "-",
                f"{f.valence:.2f}" if f else "-",
                f"{f.tempo:.0f}" if f else "-",
                f"{entry.score:.2f}",
                _SOURCE.get(entry.source, "-"),
            ]
        )
    return table(["#", "title", "artists", "energy", "valence", "bpm", "fit", "source"], rows, right=(0, 3, 4, 5, 6))


# The target features (services/common/features.py) not on a 0..1 scale: (decimals, unit).
_SCALES = {features.TEMPO: (0, " BPM"), features.LOUDNESS: (0, " dB")}


def _signed(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}".replace("-", "−")  # a true minus sign


def span(low: float, high: float, decimals: int = 2, unit: str = "") -> str:
    """`76–106 BPM`; with a negative end, `−23 to −17 dB` (a dash between negatives reads as a minus)."""
    low, high = (round(v, decimals) + 0.0 for v in (low, high))  # + 0.0: no "−0" for what rounds to zero
    joint = " to " if min(low, high) < 0 else "–"
    return f"{_signed(low, decimals)}{joint}{_signed(high, decimals)}{unit}"


def target(t: common_pb2.FeatureTarget) -> str:
    decimals, unit = _SCALES.get(t.feature, (2, ""))
    return f"{features.feature_name(t.feature)} {span(t.min, t.max, decimals, unit)}"


def _mood_lines(profile: common_pb2.MoodProfile) -> list[str]:
    source = common_pb2.MoodSource.Name(profile.source).removeprefix("MOOD_SOURCE_").lower()
    lines = [f"{profile.interpretation or profile.primary_emotion} (from {source})"]
    # What was read off the prompt, each list only when there is one: the reader sees what the mesh understood.
    listed = (
        ("genres", profile.genres),
        ("artists", profile.artists),
        ("tracks", [f"{m.title} by {m.artist}" if m.artist else m.title for m in profile.mentioned_tracks]),
        ("avoid", profile.avoid),
        ("keywords", profile.keywords),
    )
    lines += [f"{label}: {', '.join(items)}" for label, items in listed if items]
    if profile.targets:
        lines.append(f"targets: {', '.join(target(t) for t in profile.targets)}")
    return lines


def mood(profile: common_pb2.MoodProfile) -> str:
    headline, *details = _mood_lines(profile)
    return "\n".join([f"mood: {headline}", *details])


def session_line(response: orchestrator_pb2.RecommendResponse, asked_session: str = "") -> str:
    """The session the answer belongs to; when the one asked for was unknown, that a new one began."""
    line = f"session: {response.session_id}   request: {response.request_id}"
    if asked_session and response.session_started:
        line += f"\nsession {asked_session} was not found (expired, or never made): started a new session under that id"
    return line


def summary(response: orchestrator_pb2.RecommendResponse, asked_session: str = "") -> str:
    timings = "  ".join(f"{t.phase} {t.seconds * 1000:.0f} ms" for t in response.timings)
    lines = [
        f"timings: {timings}",
        f"llm: {response.llm.calls} call(s), {response.llm.prompt_tokens}+{response.llm.output_tokens} tokens, "
        f"{response.llm.cache_hits} cache hit(s)   cache: {response.cache.hits} hits / {response.cache.misses} misses",
        session_line(response, asked_session),
    ]
    for w in response.warnings:
        code = common_pb2.WarningCode.Name(w.code).removeprefix("WARNING_CODE_").lower()
        lines.append(f"warning [{code}] {w.component}: {w.message}")
    return "\n".join(lines)


def progress(event: orchestrator_pb2.Progress) -> str:
    """One line per phase; the mood phase carries the mood, printed here in full so the end need not repeat it."""
    phase = orchestrator_pb2.Phase.Name(event.phase).removeprefix("PHASE_").lower().replace("_", " ")
    stamp = f"[{event.elapsed_seconds:6.2f}s] "
    if not event.HasField("mood"):
        return f"{stamp}{phase}: {event.message}"
    headline, *details = _mood_lines(event.mood)
    return "\n".join([f"{stamp}{phase}: {headline}", *(" " * len(stamp) + d for d in details)])


def full(response: orchestrator_pb2.RecommendResponse, with_mood: bool = True, asked_session: str = "") -> str:
    """The whole answer; `with_mood=False` when a progress line has shown the mood already; `asked_session`: the
    session id the request named, if any."""
    blocks = [mood(response.mood)] if with_mood else []
    return "\n\n".join([*blocks, playlist(response), summary(response, asked_session)])


def as_json(message: Message, one_line: bool = False) -> str:
    """Every field, zero values included, so a consumer never has to know proto3's defaults."""
    return json_format.MessageToJson(
        message, indent=None if one_line else 2, ensure_ascii=False, always_print_fields_with_no_presence=True
    )


@dataclass(frozen=True)
class Failure:
    """A call that did not give an answer, as the user sees it."""

    code: str  # the gRPC status name
    message: str
    retry_after_ms: int | None = None  # the orchestrator's pushback on RESOURCE_EXHAUSTED
    detail: str = ""  # gRPC's own words when `message` is ours

    def text(self) -> str:
        line = f"error: {self.message}" if self.detail else f"error: {self.code}: {self.message}"
        if self.retry_after_ms is not None:
            line += f" (retry in {self.retry_after_ms / 1000:.1f} s)"
        return f"{line}\n  ({self.detail})" if self.detail else line

    def json(self, one_line: bool = False) -> str:
        error: dict[str, str | int] = {"code": self.code, "message": self.message}
        if self.retry_after_ms is not None:
            error["retryAfterMs"] = self.retry_after_ms
        if self.detail:
            error["detail"] = self.detail
        return json.dumps({"error": error}, ensure_ascii=False, indent=None if one_line else 2)
