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
        n = live["targets"]
        goals.append(
            Goal(
                f"live page at {n:,} targets: first response, gzip",
                live["http"]["first_kb_gzip"],
                LIVE_PAGE_KB,
                "KB",
            )
        )
        goals.append(
            Goal(
                f"live page at {n:,} targets: build after one provider's run",
                live["build_ms"]["after_one_run"],
                LIVE_PAGE_MS,
                "ms",
            )
        )
    return goals
