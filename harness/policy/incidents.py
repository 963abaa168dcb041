"""Incidents: a provider's spells of models out of work, as records with a start and an end.

Pure functions of values; no clock, no I/O. Incidents are derived from the flips of the
shown state, so they follow what the status policy and the consensus across vantages
decided, never a single result:

* a flip of a model into a state that is not working (down, throttled, flapping) opens
  an incident of its provider when the provider has none open;
* while one is open, every model of the provider that stops working joins it (its
  ``models`` only ever grow; ``open_models`` are those still out of work);
* a model flipping back to a working state (up, degraded) leaves ``open_models``; the
  incident resolves, at that flip's time, when none is left;
* ``state`` is the worst state any of its models reached (down, then flapping, then
  throttled); ``reasons`` keeps each model's newest reason for being out of work;
* ``vantages`` are the vantages that saw its models not working, gathered as it goes.

:func:`advance` folds one run's flips into the open incidents; :func:`replay` builds
every incident of a stored history of flips (the store's migration does that once).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from harness.policy.status import Flip, State

_WORST_FIRST = (State.DOWN, State.FLAPPING, State.THROTTLED)


@dataclass(frozen=True)
class Incident:
    """One incident of one provider; ``id`` is 0 until the store has given it one."""

    id: int
    provider: str
    models: tuple[str, ...]
    """Every model that went out of work while it was open, in the order they did."""
    reasons: tuple[str, ...]
    """Each model's newest reason for being out of work, parallel to ``models``."""
    open_models: tuple[str, ...]
    """The models still out of work (empty once resolved)."""
    state: State
    started_at: datetime
    resolved_at: datetime | None
    vantages: tuple[str, ...]

    @property
    def is_open(self) -> bool:
        """True until every one of its models works again."""
        return self.resolved_at is None

    @property
    def reason(self) -> str:
        """Why, in words: the one reason, or ``model: reason`` per model."""
        if len(self.models) == 1:
            return self.reasons[0]
        return "; ".join(f"{m}: {r}" for m, r in zip(self.models, self.reasons, strict=True))

    def duration_s(self, now: datetime) -> float:
        """How long it lasted (or has lasted so far, as of ``now``), in seconds."""
        end = self.resolved_at if self.resolved_at is not None else now
        return max(0.0, (end - self.started_at).total_seconds())


def is_out_of_work(state: State) -> bool:
    """True for the states that open an incident: down, throttled, flapping."""
    return state in _WORST_FIRST


def _worse(a: State, b: State) -> State:
    return min(a, b, key=_WORST_FIRST.index)


def _seen(incident: Incident, vantages: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({*incident.vantages, *vantages}))


def advance(
    open_incidents: Iterable[Incident],
    flips: Iterable[Flip],
    seen_by: Mapping[tuple[str, str], Collection[str]] | None = None,
) -> list[Incident]:
    """The incidents that ``flips`` (in any order; taken in time order) open, change or
    resolve, given the providers' ``open_incidents``; unchanged ones are left out.

    ``seen_by`` names, per (provider, model), the vantages that see it not working now;
    they join the open incidents holding that model (whether or not it flipped).
    """
    seen = seen_by or {}
    current = {i.provider: i for i in open_incidents if i.is_open}
    # Which record each provider's current incident is: its id, or for one opened here
    # (id 0 until stored) a number of its own, so later flips update the same entry.
    token = {i.provider: i.id for i in current.values()}
    changed: dict[int, Incident] = {}

    def keep(incident: Incident) -> None:
        current[incident.provider] = incident
        changed[token[incident.provider]] = incident

    for flip in sorted(flips, key=lambda f: f.at):
        incident = current.get(flip.provider)
        vantages = seen.get((flip.provider, flip.model), ())
        if is_out_of_work(flip.new):
            if incident is None or not incident.is_open:
                token[flip.provider] = -1 - len(changed)
                keep(
                    Incident(
                        id=0,
                        provider=flip.provider,
                        models=(flip.model,),
                        reasons=(flip.reason,),
                        open_models=(flip.model,),
                        state=flip.new,
                        started_at=flip.at,
                        resolved_at=None,
                        vantages=tuple(sorted(set(vantages))),
                    )
                )
                continue
            if flip.model in incident.models:
                at = incident.models.index(flip.model)
                reasons = (*incident.reasons[:at], flip.reason, *incident.reasons[at + 1 :])
                models = incident.models
            else:
                models, reasons = (*incident.models, flip.model), (*incident.reasons, flip.reason)
            still = incident.open_models
            keep(
                replace(
                    incident,
                    models=models,
                    reasons=reasons,
                    open_models=still if flip.model in still else (*still, flip.model),
                    state=_worse(incident.state, flip.new),
                    vantages=_seen(incident, vantages),
                )
            )
        elif flip.new.is_working and incident is not None and flip.model in incident.open_models:
            left = tuple(m for m in incident.open_models if m != flip.model)
            keep(replace(incident, open_models=left, resolved_at=None if left else flip.at))
    for incident in list(current.values()):
        if not incident.is_open:
            continue
        more = [v for m in incident.open_models for v in seen.get((incident.provider, m), ())]
        if set(more) - set(incident.vantages):
            keep(replace(incident, vantages=_seen(incident, more)))
    return list(changed.values())


def replay(flips: Iterable[Flip]) -> list[Incident]:
    """Every incident of a history of ``flips``, oldest first (ids 0, no vantages)."""
    done: list[Incident] = []
    current: dict[str, Incident] = {}
    for flip in sorted(flips, key=lambda f: f.at):
        for incident in advance(current.values(), [flip]):
            if incident.is_open:
                current[incident.provider] = incident
            else:
                current.pop(incident.provider, None)
                done.append(incident)
    return sorted([*done, *current.values()], key=lambda i: i.started_at)


def newest_first(incidents: Sequence[Incident]) -> list[Incident]:
    """``incidents`` by start, newest first (ties by id, newest first)."""
    return sorted(incidents, key=lambda i: (i.started_at, i.id), reverse=True)
