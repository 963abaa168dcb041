"""The goals the issue sets, checked against a benchmark document. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FANOUT_RATIO = 1.25
FANOUT_CPU_RATIO = 1.15
TTFC_ERROR_P95_MS = 2.0
TTFC_DELTA_MS = 5.0
AUTO_ERROR_P95_MS = 5.0
PAGE_MS = 100.0
LARGE_PAGE_RATIO = 1.2
PAGE_PEAK_MB = 200.0
SCHEDULE_PERIOD_PCT = 2.0
LIVE_PAGE_KB = 300.0
LIVE_PAGE_MS = 100.0
SUSPECT_PCT = 2.0
VIEWER_NOISE_FLOORS = {
    "loop_lag_p95_ms": ("loop-lag p95", 0.5, "ms"),
    "timing_suspect_pct": ("timing-suspect share", 0.5, "%"),
    "ttfc_p95_ms": ("ttfc p95", 2.0, "ms"),
    "probes_per_s": ("probes per second", 0.0, "/s"),
}
"""The served figures that viewers must leave alone: name, the least noise allowed
(the run-to-run range below it is luck of few runs), unit."""
PROBES_NOISE_SHARE = 0.02
"""Probes per second: the least noise allowed, as a share of the unviewed rate."""


@dataclass(frozen=True)
class Goal:
    """One goal: what is measured, its value in this run, and the limit it must not pass."""

    name: str
    value: float | None
    limit: float
    unit: str
    absolute: bool = False
    """Whether the limit bounds the value's magnitude (a difference either way)."""

    @property
    def met(self) -> bool | None:
        """True or False; ``None`` when the value could not be measured."""
        if self.value is None:
            return None
        return (abs(self.value) if self.absolute else self.value) <= self.limit

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "name": self.name,
            "value": self.value,
            "limit": self.limit,
            "unit": self.unit,
            "absolute": self.absolute,
            "met": self.met,
        }


def _error_p95(level: Mapping[str, Any]) -> float | None:
    error = level["harness"]["error_ms"]
    return None if error is None else float(error["p95"])


def goals_of(document: Mapping[str, Any]) -> list[Goal]:
    """Every goal whose benchmark is in ``document``, in the issue's order."""
    goals: list[Goal] = []
    if "fanout" in document:
        fanout = document["fanout"]
        goals.append(Goal("fan-out wall time, harness / bare", fanout["ratio"], FANOUT_RATIO, "x"))
        goals.append(
            Goal(
                "fan-out CPU per probe, harness / bare", fanout["cpu_ratio"], FANOUT_CPU_RATIO, "x"
            )
        )
    if "timing" in document:
        for level in document["timing"]["levels"]:
            c = level["concurrency"]
            if c == 1:
                goals.append(
                    Goal(
                        "ttfc error p95 at concurrency 1",
                        _error_p95(level),
                        TTFC_ERROR_P95_MS,
                        "ms",
                    )
                )
                continue
            for stat in ("p50", "p95"):
                goals.append(
                    Goal(
                        f"ttfc {stat} minus bare's at concurrency {c}",
                        level[f"delta_{stat}_ms"],
                        TTFC_DELTA_MS,
                        "ms",
                        absolute=True,
                    )
                )
            if "auto" in level:
                error = level["auto"]["error_ms"]
                goals.append(
                    Goal(
                        f"ttfc error p95 with --concurrency auto (ceiling {c})",
                        None if error is None else float(error["p95"]),
                        AUTO_ERROR_P95_MS,
                        "ms",
                    )
                )
    if "store" in document:
        page = document["store"]["page"]
        slowest = max(page["cold"]["page_ms"], page["warm"]["page_ms"])
        goals.append(
            Goal("page time: aggregation + render, slower of cold, warm", slowest, PAGE_MS, "ms")
        )
        peak = page["rss_peak_mb"]
        goals.append(Goal("page process resident memory peak", peak, PAGE_PEAK_MB, "MB"))
        if "store_large" in document:
            large = document["store_large"]["page"]
            rows = document["store_large"]["insert"]["rows"]
            ratio = max(large["cold"]["page_ms"], large["warm"]["page_ms"]) / slowest
            goals.append(
                Goal(
                    f"page time over {rows:,} results / over the smaller store",
                    round(ratio, 3),
                    LARGE_PAGE_RATIO,
                    "x",
                )
            )
    if "schedule" in document:
        off_by = document["schedule"].get("off_by")
        goals.append(
            Goal(
                "mean period seen upstream minus the interval (median of runs)",
                None if off_by is None else round(off_by * 100, 3),
                SCHEDULE_PERIOD_PCT,
                "%",
                absolute=True,
            )
        )
    for live in document.get("overview", {}).get("live", []):
        goals.extend(_live_page_goals(live))
    if "scale" in document:
        goals.extend(_scale_goals(document["scale"]))
    return goals


def _live_page_goals(live: Mapping[str, Any]) -> list[Goal]:
    """The live page's weight and build time at its fleet's size."""
    n = live["targets"]
    return [
        Goal(
            f"live page at {n:,} targets: first response, gzip",
            live["http"]["first_kb_gzip"],
            LIVE_PAGE_KB,
            "KB",
        ),
        Goal(
            f"live page at {n:,} targets: build after one provider's run",
            live["build_ms"]["after_one_run"],
            LIVE_PAGE_MS,
            "ms",
        ),
    ]


def _scale_goals(scale: Mapping[str, Any]) -> list[Goal]:
    """``auto`` within its lag budget at scale; viewers moving the prober's figures by
    no more than the run-to-run noise (the larger range of either condition's runs)."""
    targets = scale["targets"]
    suspect = (
        (f"timing-suspect share, one run of {targets:,} targets at auto", scale["one_run"]),
        (f"timing-suspect share, serving {targets:,} targets, no viewers", scale["no_viewers"]),
    )
    goals = [
        Goal(name, figures["timing_suspect_pct"], SUSPECT_PCT, "%")
        for name, figures in suspect
        if figures["timing_suspect_pct"] is not None
    ]
    if "page" in scale:
        goals.extend(_live_page_goals(scale["page"]))
    alone, looked_at = scale["no_viewers"], scale["with_viewers"]
    for figure, (label, floor, unit) in VIEWER_NOISE_FLOORS.items():
        if alone[figure] is None or looked_at[figure] is None:
            continue
        if figure == "probes_per_s":
            floor = alone[figure] * PROBES_NOISE_SHARE
        ranges = (alone[f"{figure}_range"] or 0.0, looked_at[f"{figure}_range"] or 0.0)
        goals.append(
            Goal(
                f"{label}, {scale['viewers']} viewers minus none (limit: run-to-run noise)",
                round(looked_at[figure] - alone[figure], 3),
                round(max(floor, *ranges), 3),
                unit,
                absolute=True,
            )
        )
    return goals
