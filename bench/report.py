"""latest.json's document, and the tables (terminal and Markdown) drawn from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from segue_cli.render import table
from sim.endpoints import UPSTREAMS

SCENARIOS = ("legacy", "cold", "warm", "load")
FOLLOWUPS = (("refine: cold", "refine_cold"), ("refine: tweak", "refine"), ("popular", "popular"))
README_START = "<!-- bench:start -->"
README_END = "<!-- bench:end -->"


def _s(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.1f}"


SCENARIO_HEADER = [
    "scenario",
    "runs (ok)",
    "p50 / p95 / p99 sim s",
    "p50 / p95 / p99 wall",
    "Spotify / ReccoBeats / Gemini calls per req",
    "LLM calls per req",
    "LLM tokens in / out per req",
    "429s (after 1st cooldown)",
    "errors",
    "tracks per req (short)",
    "throughput",
]


def scenario_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    return SCENARIO_HEADER, [_scenario_row(name, doc["scenarios"][name]) for name in SCENARIOS]


def followup_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    followups = doc.get("followups", {})
    return SCENARIO_HEADER, [
        _scenario_row(name, followups[key]) for name, key in FOLLOWUPS if followups.get(key, {}).get("requests")
    ]


def _scenario_row(name: str, s: Mapping[str, Any]) -> list[str]:
    sim, wall = s["latency_sim_s"], s["latency_wall_s"]
    wall_text = (
        f"{_ms(wall['p50'])} / {_ms(wall['p95'])} / {_ms(wall['p99'])} ms"
        if name == "warm"
        else f"{_s(wall['p50'])} / {_s(wall['p95'])} / {_s(wall['p99'])} s"
    )
    calls = " / ".join(_s(s["upstream_calls_per_request"][u]["total"], 1) for u in UPSTREAMS)
    llm = s["llm"]
    limited = sum(s["rate_limited"].values())
    after = sum(s["rate_limited_after_first_cooldown"].values())
    errors = ", ".join(f"{c} ×{n}" for c, n in s["errors_by_code"].items()) or "0"
    throughput = (
        f"{_s(s['throughput_rps_sim'])}/s of {_s(s['offered_rps_sim'])}/s offered (sim)" if name == "load" else ""
    )
    return [
        f"{name} (×{s['time_scale']:g})",
        f"{s['requests']} ({s['ok']})",
        f"{_s(sim['p50'])} / {_s(sim['p95'])} / {_s(sim['p99'])}",
        wall_text,
        calls,
        _s(llm["calls_per_request"], 2),
        f"{llm['tokens_in_per_request']:.0f} / {llm['tokens_out_per_request']:.0f}",
        f"{limited} ({after})",
        errors,
        f"{_s(s['tracks_per_request'], 1)} ({s['short_playlists']})",
        throughput,
    ]


def quality_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per labelled prompt: what its answer honours (bench.quality)."""
    rows = []
    for r in doc.get("quality", {}).get("results", []):
        labels = r["labels"]
        rows.append(
            [
                r["kind"],
                r["prompt"],
                f"{r['code']} {r['tracks']}",
                "–" if r["genre_precision"] is None else f"{r['genre_precision']:.2f}",
                f"{r['mentioned_found']}/{len(labels['tracks'])}" if labels["tracks"] else "",
                f"{r['named_artists_found']}/{len(labels['artists'])}" if labels["artists"] else "",
                str(r["excluded_present"]) if labels["excluded_genres"] or labels["excluded_artists"] else "",
                _ratio_text(r["feature_gap"], r["random_gap"]),
                _s(r["own_top_share"]),
                ", ".join(f"{k} {v}" for k, v in sorted(r["sources"].items())),
            ]
        )
    header = [
        "kind",
        "prompt",
        "answer",
        "genre precision",
        "mentioned tracks",
        "named artists",
        "excluded present",
        "gap ÷ random",
        "own-top share",
        "sources",
    ]
    return header, rows


def quality_summary_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    q = doc.get("quality", {})
    rows = [
        [
            kind,
            str(k["cases"]),
            _s(k["genre_precision"]),
            _s(k["gap_ratio"], 3),
            _s(k["own_top_share"]),
            _s(k["tracks"], 1),
        ]
        for kind, k in q.get("by_kind", {}).items()
    ]
    if q:
        rows.append(
            [
                "all",
                str(q["cases"]),
                _s(q["genre_precision_mean"]),
                _s(q["gap_ratio"], 3),
                _s(q["own_top_share_mean"]),
                _s(q["tracks_mean"], 1),
            ]
        )
    return ["prompts", "count", "genre precision", "gap ÷ random", "own-top share", "tracks"], rows


def _ratio_text(a: float | None, b: float | None) -> str:
    return "–" if a is None or not b else f"{a / b:.3f}"


def target_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = [
        [t["target"], t["figure"], {True: "met", False: "MISSED", None: "n/a"}[t["met"]], t["note"]]
        for t in doc["targets"]
    ]
    return ["target", "figure", "status", "what holds it back"], rows


def bound_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    rows = []
    for b in doc["lower_bound"]["per_prompt"]:
        rows.append(
            [
                str(b["prompt_index"]),
                b["prompt"],
                str(b["tokens_out"]),
                _s(b["llm_s"]),
                _s(b["recommendation_s"]),
                _s(b["features_s"]),
                _s(b["rate_s"]),
                _s(b["bound_s"]),
                _s(b.get("cold_p50_sim_s")),
                _s(b.get("cold_over_bound")),
            ]
        )
    header = [
        "#",
        "prompt",
        "LLM tokens out",
        "LLM s",
        "recommend s",
        "features s",
        "rate n/r s",
        "bound s",
        "cold p50 s",
        "cold ÷ bound",
    ]
    return header, rows


def endpoint_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    keys = sorted(
        {
            (u, e)
            for name in SCENARIOS
            for u in UPSTREAMS
            for e in doc["scenarios"][name]["upstream_calls_per_request"][u]["endpoints"]
        }
    )
    rows = [
        [u, e, *(_s(doc["scenarios"][n]["upstream_calls_per_request"][u]["endpoints"].get(e), 2) for n in SCENARIOS)]
        for u, e in keys
    ]
    return ["upstream", "endpoint", *SCENARIOS], rows


def overload_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The load scenario as overload (issue 7): what was served in full, shed, cut short or failed."""
    load = doc["scenarios"]["load"]
    figures = load.get("overload")
    if figures is None or not load["requests"]:
        return [], []
    bound = doc["lower_bound"]
    batching = load.get("batching") or {}
    callers = batching.get("callers_per_batch")
    measured = bound.get("mesh_cold_calls_capacity_rps_sim")
    rows = [
        ["gateway replicas (sharing one Redis)", str(doc.get("replicas", 1))],
        ["offered (sim)", f"{_s(load['offered_rps_sim'])}/s, {load['requests']} requests"],
        ["capacity bound: required calls (sim)", f"{_s(bound['capacity_rps_sim'])}/s"],
        ["capacity bound: a cold request's measured calls (sim)", f"{_s(measured)}/s"],
        [
            "goodput: full-size playlists (sim)",
            f"{_s(figures['goodput_rps_sim'])}/s ({figures['full_size']} playlists)",
        ],
        ["short / shed / failed", f"{figures['short']} / {figures['shed']} / {figures['failed']}"],
        ["answered without personalisation (or another fallback)", str(figures["degraded_impersonal"])],
        [
            "admitted full / impersonal / lean / shed",
            " / ".join(str(admitted[v]) for v in ("full", "impersonal", "lean", "shed"))
            if (admitted := load.get("admissions"))
            else "omitted: the orchestrator's /metrics not read",
        ],
        [
            "shed latency p50",
            f"{_s(figures['shed_p50_sim_s'])} s sim ({_s(figures['shed_p50_wall_s'], 3)} s wall)"
            if figures["shed"]
            else "– (none shed)",
        ],
        ["ReccoBeats calls per request", _s(load["upstream_calls_per_request"]["reccobeats"]["total"])],
        [
            "callers per batch (ReccoBeats lookups)",
            "omitted: no batch metrics read"
            if callers is None
            else f"{callers:.2f} over {batching['batches']:.0f} batches",
        ],
    ]
    return ["load under overload (issue 7)", "figure"], rows


def ratio_rows(doc: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    r = doc["ratios"]
    return ["ratio", "value"], [
        ["legacy p50 ÷ cold p50 (simulated s)", _s(r["legacy_over_cold"], 1)],
        ["cold ÷ lower bound (median over runs)", _s(r["cold_over_bound"])],
        ["cold p50 ÷ median lower bound", _s(r["cold_p50_over_median_bound"])],
        ["warm p50 ÷ cold p50 (wall)", _s(r["warm_over_cold"], 4)],
    ]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _sections(doc: Mapping[str, Any]) -> list[tuple[str, tuple[list[str], list[list[str]]]]]:
    return [
        ("Scenarios", scenario_rows(doc)),
        ("Targets (issues 4, 7 and 8)", target_rows(doc)),
        ("Load under overload", overload_rows(doc)),
        ("Refinements and popular moods", followup_rows(doc)),
        ("Quality by kind of prompt", quality_summary_rows(doc)),
        ("Quality per labelled prompt", quality_rows(doc)),
        ("Ratios", ratio_rows(doc)),
        ("Lower bound per prompt (simulated seconds)", bound_rows(doc)),
        ("Upstream calls per request, by endpoint", endpoint_rows(doc)),
    ]


def terminal(doc: Mapping[str, Any]) -> str:
    parts = [f"== {title} ==\n{table(*rows)}" for title, rows in _sections(doc) if rows[0]]
    return "\n\n".join(parts)


def header_lines(doc: Mapping[str, Any]) -> list[str]:
    m = doc["machine"]
    return [
        f"`{doc['command']}` — {doc['generated_at']} — {m['cpus']} × {m['cpu_model']}, Python {m['python']}, "
        f"{m['platform']}; profile `{doc['profile']}`, mesh time scale ×{doc['config']['mesh_scale']:g}, legacy ×"
        f"{doc['config']['legacy_scale']:g}; wall time {doc['bench_wall_s']:.0f} s.",
        "",
        "Simulated seconds are wall seconds ÷ the time scale (upstream delays, windows and the legacy model's waits "
        "are all scaled; the mesh's own overhead is not). Warm is judged in wall milliseconds.",
    ]


def markdown(doc: Mapping[str, Any]) -> str:
    parts = ["# Benchmark results", "", *header_lines(doc)]
    for title, rows in _sections(doc):
        if rows[0]:
            parts += ["", f"## {title}", "", markdown_table(*rows)]
    if noted := notes(doc):
        parts += ["", "## Notes", "", *noted]
    parts += ["", "![latency](latency.png)", "", "![upstream calls](upstream_calls.png)", ""]
    return "\n".join(parts)


def notes(doc: Mapping[str, Any]) -> list[str]:
    lines = [f"- {name}: {n}" for name in SCENARIOS for n in doc["scenarios"][name]["notes"]]
    return lines + [f"- {n}" for n in doc["notes"]]


def readme_section(doc: Mapping[str, Any], image_prefix: str) -> str:
    """The README's results section: the command, date, machine, the main tables and the plots."""
    scen, targ = scenario_rows(doc), target_rows(doc)
    return "\n".join(
        [
            README_START,
            "`make bench` (about 6 minutes; `make bench-quick` for a 2-minute development run) starts the simulator "
            "and the mesh, runs the monolith model (legacy), popular-mood, cold, warm, quality, refine and load "
            "scenarios, and writes `bench/results/latest.{md,json}` and the plots below.",
            "",
            *header_lines(doc),
            "",
            markdown_table(*scen),
            "",
            markdown_table(*followup_rows(doc)),
            "",
            markdown_table(*quality_summary_rows(doc)),
            "",
            markdown_table(*targ),
            "",
            *notes(doc),
            "",
            f"![latency per scenario]({image_prefix}latency.png)",
            f"![upstream calls per request]({image_prefix}upstream_calls.png)",
            README_END,
        ]
    )


def replace_between_markers(text: str, section: str) -> str | None:
    """`text` with the part between the bench markers replaced by `section`, or None without markers."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return None
    return text[:start] + section + text[end + len(README_END) :]
