"""Probe tiers: named groups of prompts, each probed on its own period.

    prompts = ["ping"]            # probed every serve.interval (the tier "default")

    [serve]
    interval = "1min"

    [serve.tiers.suite]           # every target: these prompts once an hour
    prompts = ["math", "system"]
    interval = "1h"

    [endpoints.local.tiers.suite] # this target only: overrides the same-named tier
    interval = "6h"

    [providers.Foo.tiers.code]    # this target only: a tier of its own
    prompts = ["history"]
    interval = "12h"

A target is probed with the configured ``prompts`` plus every prompt its tiers name; a
prompt in no named tier is in the tier ``default``, probed every ``serve.interval``.
Every prompt a target is probed with is in exactly one of its tiers
(:func:`tiers_of`), so a scheduled job per (target, tier) probes each prompt once a period.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from harness.durations import Seconds
from harness.policy.prompts import PROMPTS, chosen_for
from harness.probing.runner import prompt_ids
from harness.settings.fields import FieldConflict, Section
from providers import PROVIDERS

if TYPE_CHECKING:
    from harness.settings.config import Settings

DEFAULT_TIER = "default"
"""The tier of the prompts no named tier holds, probed every ``serve.interval``."""

_TIER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Tier:
    """A named group of prompts probed every ``interval`` seconds."""

    name: str
    prompts: tuple[str, ...]
    interval: float


class TierSettings(Section):
    """One ``tiers.NAME`` table. Under ``[serve]`` it needs ``prompts`` (``interval``
    defaults to ``serve.interval``); under an endpoint or provider either field
    overrides the same-named tier of ``[serve]``, or both make a tier of its own."""

    prompts: tuple[str, ...] | None = None
    interval: Seconds | None = Field(None, gt=0)

    @field_validator("prompts")
    @classmethod
    def _known_prompts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("a tier needs at least one prompt")
        unknown = [p for p in value if p not in PROMPTS]
        if unknown:
            raise ValueError(f"unknown prompt(s) {unknown}; known: {', '.join(PROMPTS)}")
        return tuple(dict.fromkeys(value))


def check_tier_names(tiers: Mapping[str, TierSettings]) -> Mapping[str, TierSettings]:
    """Tier names are labels (metrics, job ids): short, plain, and never ``default``."""
    for name in tiers:
        if name == DEFAULT_TIER:
            raise ValueError(
                f"{DEFAULT_TIER!r} is the tier of the prompts no named tier holds "
                "(probed every serve.interval): name the tier otherwise"
            )
        if not _TIER_NAME.fullmatch(name):
            raise ValueError(f"tier name {name!r} must be letters, digits, '_' or '-' (at most 64)")
    return tiers


def merged_tiers(
    shared: Mapping[str, TierSettings],
    own: Mapping[str, TierSettings],
    interval: float,
    where: str = "tiers",
) -> dict[str, Tier]:
    """The named tiers of one target: ``own`` over ``shared`` (``[serve.tiers]``), a
    missing interval being ``interval``. A :class:`FieldConflict` at ``where.NAME.prompts``
    when a tier has no prompts or a prompt is in two tiers."""
    tiers: dict[str, Tier] = {}
    for name in dict.fromkeys([*shared, *own]):
        base, over = shared.get(name), own.get(name)
        layers = [t for t in (over, base) if t is not None]
        prompts = next((t.prompts for t in layers if t.prompts is not None), None)
        if prompts is None:
            raise FieldConflict(f"{where}.{name}.prompts", "a tier needs at least one prompt")
        chosen = next((t.interval for t in layers if t.interval is not None), interval)
        tiers[name] = Tier(name, prompts, chosen)
    holder: dict[str, str] = {}
    for tier in tiers.values():
        for prompt in tier.prompts:
            if prompt in holder:
                raise FieldConflict(
                    f"{where}.{tier.name}.prompts",
                    f"prompt {prompt!r} is also in tier {holder[prompt]!r}: "
                    "a prompt belongs to one tier of a target",
                )
            holder[prompt] = tier.name
    return tiers


def own_tiers(settings: Settings, provider: str) -> Mapping[str, TierSettings]:
    """The ``tiers`` tables of ``provider`` itself (its endpoint's, else its provider's)."""
    endpoint = settings.endpoints.get(provider)
    if endpoint is not None and endpoint.tiers:
        return endpoint.tiers
    return settings.provider(provider).tiers


def tiers_of(settings: Settings, provider: str) -> tuple[Tier, ...]:
    """The tiers ``provider`` (a bundled provider's, an endpoint's or a gpt4free
    provider's name) is probed in: ``default`` first (when it holds any prompt), then
    the named ones in the order written. Every prompt the provider is probed with is in
    exactly one of them; for a registered provider, only the prompts it can answer
    (``ping`` standing for a media provider's own prompt), tiers left empty dropped.
    An unknown prompt in ``prompts`` is a :class:`~harness.errors.ConfigError`."""
    serve = settings.serve
    named = merged_tiers(serve.tiers, own_tiers(settings, provider), serve.interval)
    held = {p for tier in named.values() for p in tier.prompts}
    rest = tuple(p for p in prompt_ids(settings.prompts) if p not in held)
    tiers = [Tier(DEFAULT_TIER, rest, serve.interval), *named.values()]
    kind = PROVIDERS.get(provider)
    if kind is not None:
        picked = {tier.name: chosen_for(kind, tier.prompts) for tier in tiers}
        tiers = [
            Tier(
                tier.name,
                tuple(p for p in picked[tier.name] if _owner(p, tiers, picked) is tier),
                tier.interval,
            )
            for tier in tiers
        ]
    return tuple(tier for tier in tiers if tier.prompts)


def _owner(prompt: str, tiers: list[Tier], picked: Mapping[str, list[str]]) -> Tier:
    """The one tier a picked prompt goes to: the one naming it, else the first that
    picked it (``ping`` standing for a media provider's prompt in several tiers)."""
    naming = [tier for tier in tiers if prompt in tier.prompts]
    return (naming or [tier for tier in tiers if prompt in picked[tier.name]])[0]
