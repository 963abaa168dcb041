"""``harness probe --fail-on``: which outcome of a run makes its exit code 1 (a CI gate).

* ``failed`` (the default): any probe failed or was inconclusive, or nothing was probed;
* ``down``: any probed target is not working after the run (down, throttled, flapping,
  or unknown because nothing conclusive was ever measured);
* ``degraded``: any probed target is not up after the run, or any pass of the run
  missed a latency objective (before hysteresis would show it degraded);
* ``never``: always 0 (usage errors still exit 2).

The states are the stored ones the run produced; with ``--no-store`` the run's results
are folded from no history, so the first result of each target decides.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from harness.policy.status import State, Thresholds, replay

if TYPE_CHECKING:  # the CLI reads FailOn at import time; the pipeline loads the providers
    from harness.pipeline.run import RunSummary


class FailOn(StrEnum):
    """The outcome ``--fail-on`` names."""

    DOWN = "down"
    DEGRADED = "degraded"
    FAILED = "failed"
    NEVER = "never"


def run_states(summary: RunSummary, thresholds: Thresholds) -> dict[tuple[str, str], State]:
    """The state of every target the run probed, after the run."""
    probed = {r.target for r in summary.results}
    statuses = summary.statuses
    missing = [r for r in summary.results if r.target not in statuses]
    if missing:
        fresh, _ = replay(
            missing, thresholds, objectives=summary.objectives, baselines=summary.baselines
        )
        statuses = {**fresh, **statuses}
    return {t: statuses[t].state if t in statuses else State.UNKNOWN for t in sorted(probed)}


def gate_exit_code(summary: RunSummary, fail_on: FailOn, thresholds: Thresholds) -> int:
    """0 when the run passes the gate, 1 when it does not (see the module docstring)."""
    if fail_on is FailOn.NEVER:
        return 0
    if fail_on is FailOn.FAILED or not summary.results:
        return summary.exit_code
    states = run_states(summary, thresholds).values()
    if fail_on is FailOn.DOWN:
        return 0 if all(s.is_working for s in states) else 1
    missed = any(summary.misses(r) for r in summary.results)
    return 0 if all(s is State.UP for s in states) and not missed else 1
