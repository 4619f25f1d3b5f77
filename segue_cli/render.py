"""Plain-text rendering of a playlist, its timings and warnings, for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from segue.v1 import common_pb2, orchestrator_pb2

_SOURCE = {
    common_pb2.TRACK_SOURCE_RECOMMENDATION: "recommended",
    common_pb2.TRACK_SOURCE_USER_TOP: "your top",
    common_pb2.TRACK_SOURCE_ANCHOR: "anchor",
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


def mood(profile: common_pb2.MoodProfile) -> str:
    source = common_pb2.MoodSource.Name(profile.source).removeprefix("MOOD_SOURCE_").lower()
    targets = ", ".join(f"{t.feature} {t.min:.2f}–{t.max:.2f}" for t in profile.targets)
    parts = [f"mood: {profile.interpretation or profile.primary_emotion} (from {source})"]
    if profile.genres:
        parts.append(f"genres: {', '.join(profile.genres)}")
    if targets:
        parts.append(f"targets: {targets}")
    return "\n".join(parts)


def summary(response: orchestrator_pb2.RecommendResponse) -> str:
    timings = "  ".join(f"{t.phase} {t.seconds * 1000:.0f} ms" for t in response.timings)
    lines = [
        f"timings: {timings}",
        f"llm: {response.llm.calls} call(s), {response.llm.prompt_tokens}+{response.llm.output_tokens} tokens, "
        f"{response.llm.cache_hits} cache hit(s)   cache: {response.cache.hits} hits / {response.cache.misses} misses",
        f"session: {response.session_id}   request: {response.request_id}",
    ]
    for w in response.warnings:
        code = common_pb2.WarningCode.Name(w.code).removeprefix("WARNING_CODE_").lower()
        lines.append(f"warning [{code}] {w.component}: {w.message}")
    return "\n".join(lines)


def progress(event: orchestrator_pb2.Progress) -> str:
    phase = orchestrator_pb2.Phase.Name(event.phase).removeprefix("PHASE_").lower().replace("_", " ")
    return f"[{event.elapsed_seconds:6.2f}s] {phase}: {event.message}"


def full(response: orchestrator_pb2.RecommendResponse) -> str:
    return "\n\n".join([mood(response.mood), playlist(response), summary(response)])
