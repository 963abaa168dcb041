"""Probe tiers: ``tiers.NAME`` tables under ``[serve]``, endpoints and providers, and
:func:`tiers_of`, which puts every prompt a target is probed with in exactly one tier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cli.main import main
from harness.errors import ConfigError
from harness.pipeline.run import plan_targets
from harness.policy.prompts import PROMPTS
from harness.settings.config import Settings, load_settings
from harness.settings.tiers import DEFAULT_TIER, Tier, tiers_of
from providers import PROVIDERS

ENDPOINT = {"base_url": "http://127.0.0.1:9/v1", "models": ["m"]}


def loaded(tmp_path: Path, document: dict[str, Any]) -> Settings:
    path = tmp_path / "harness.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return load_settings(path)


def refused(tmp_path: Path, document: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        loaded(tmp_path, document)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_prompts_in_no_named_tier_are_the_default_tier_at_the_serve_interval(
    tmp_path: Path,
) -> None:
    settings = loaded(
        tmp_path,
        {
            "prompts": ["ping", "math"],
            "serve": {"interval": "1min", "tiers": {"suite": {"prompts": ["math", "system"]}}},
        },
    )
    assert tiers_of(settings, "AutonomousAI") == (
        Tier(DEFAULT_TIER, ("ping",), 60.0),
        Tier("suite", ("math", "system"), 60.0),
    )


def test_a_tier_interval_reads_the_duration_grammar(tmp_path: Path) -> None:
    settings = loaded(
        tmp_path, {"serve": {"tiers": {"suite": {"prompts": ["math"], "interval": "1h"}}}}
    )
    assert tiers_of(settings, "AutonomousAI")[-1] == Tier("suite", ("math",), 3600.0)


def test_an_endpoint_tier_overrides_the_interval_of_the_same_named_tier(tmp_path: Path) -> None:
    settings = loaded(
        tmp_path,
        {
            "serve": {"tiers": {"suite": {"prompts": ["math"], "interval": "1h"}}},
            "endpoints": {"local": {**ENDPOINT, "tiers": {"suite": {"interval": "6h"}}}},
        },
    )
    assert tiers_of(settings, "local")[-1] == Tier("suite", ("math",), 6 * 3600.0)
    assert tiers_of(settings, "AutonomousAI")[-1] == Tier("suite", ("math",), 3600.0)


def test_a_provider_tier_overrides_the_prompts_of_the_same_named_tier(tmp_path: Path) -> None:
    settings = loaded(
        tmp_path,
        {
            "serve": {"tiers": {"suite": {"prompts": ["math"], "interval": "1h"}}},
            "providers": {"AutonomousAI": {"tiers": {"suite": {"prompts": ["system"]}}}},
        },
    )
    assert tiers_of(settings, "AutonomousAI")[-1] == Tier("suite", ("system",), 3600.0)


def test_a_target_tier_of_its_own_is_added_to_the_shared_ones(tmp_path: Path) -> None:
    settings = loaded(
        tmp_path,
        {
            "serve": {"tiers": {"suite": {"prompts": ["math"], "interval": "1h"}}},
            "endpoints": {
                "local": {
                    **ENDPOINT,
                    "tiers": {"history": {"prompts": ["system"], "interval": "2h"}},
                }
            },
        },
    )
    assert [t.name for t in tiers_of(settings, "local")] == [DEFAULT_TIER, "suite", "history"]


def test_a_prompt_in_two_tiers_is_refused_naming_the_second(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        {"serve": {"tiers": {"a": {"prompts": ["ping"]}, "b": {"prompts": ["math", "ping"]}}}},
    )
    assert "serve.tiers.b.prompts: prompt 'ping' is also in tier 'a'" in message


def test_a_target_tier_taking_a_prompt_of_a_shared_tier_is_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path,
        {
            "serve": {"tiers": {"suite": {"prompts": ["math"]}}},
            "endpoints": {"local": {**ENDPOINT, "tiers": {"history": {"prompts": ["math"]}}}},
        },
    )
    assert "endpoints.local.tiers.history.prompts: prompt 'math' is also in tier 'suite'" in message


def test_an_unknown_prompt_in_a_tier_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, {"serve": {"tiers": {"suite": {"prompts": ["nope"]}}}})
    assert "serve.tiers.suite.prompts: unknown prompt(s) ['nope']" in message


def test_a_tier_with_an_empty_prompt_list_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, {"serve": {"tiers": {"suite": {"prompts": []}}}})
    assert "serve.tiers.suite.prompts: a tier needs at least one prompt" in message


def test_a_shared_tier_without_prompts_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, {"serve": {"tiers": {"suite": {"interval": "1h"}}}})
    assert "serve.tiers.suite.prompts: a tier needs at least one prompt" in message


def test_a_target_tier_of_its_own_without_prompts_is_refused(tmp_path: Path) -> None:
    message = refused(
        tmp_path, {"providers": {"AutonomousAI": {"tiers": {"slow": {"interval": "1h"}}}}}
    )
    assert "providers.AutonomousAI.tiers.slow.prompts: a tier needs at least one prompt" in message


def test_a_tier_named_default_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, {"serve": {"tiers": {"default": {"prompts": ["math"]}}}})
    assert "serve.tiers: 'default' is the tier of the prompts no named tier holds" in message


def test_an_endpoint_with_tiers_in_both_of_its_tables_is_refused(tmp_path: Path) -> None:
    own = {"tiers": {"a": {"prompts": ["math"]}}}
    message = refused(
        tmp_path,
        {"endpoints": {"local": {**ENDPOINT, **own}}, "providers": {"local": own}},
    )
    assert "providers.local.tiers: endpoint 'local' has tiers in endpoints.local.tiers" in message


def test_a_bad_tier_exits_2_with_one_line_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "harness.toml"
    path.write_text('[serve.tiers.suite]\nprompts = ["nope"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "probe", "--all"])
    assert result.exit_code == 2
    assert "serve.tiers.suite.prompts" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


PROMPT_LISTS = st.lists(st.sampled_from([*PROMPTS, "all"]), min_size=1, max_size=4, unique=True)
INTERVALS = st.sampled_from(["30s", "1min", "1h", 7.5])


@st.composite
def tiered_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A settings document with shared tiers and one target's own, prompts kept apart."""
    ids = list(PROMPTS)
    shuffled = draw(st.permutations(ids))
    cut = draw(st.integers(0, len(ids)))
    shared_pool, own_pool = shuffled[:cut], shuffled[cut:]

    def tiers(pool: list[str], prefix: str) -> dict[str, Any]:
        tables: dict[str, Any] = {}
        for index, chunk in enumerate(draw(st.lists(st.integers(1, 3), max_size=3))):
            prompts, pool = pool[:chunk], pool[chunk:]
            if not prompts:
                break
            tables[f"{prefix}{index}"] = {"prompts": prompts, "interval": draw(INTERVALS)}
        return tables

    shared = tiers(list(shared_pool), "s")
    own = tiers(list(own_pool), "o")
    for name in draw(st.lists(st.sampled_from(sorted(shared) or ["x"]), max_size=2, unique=True)):
        if name in shared:
            own[name] = {"interval": draw(INTERVALS)}
    provider = draw(st.sampled_from(sorted(PROVIDERS)))
    return {
        "prompts": draw(PROMPT_LISTS),
        "serve": {"interval": draw(INTERVALS), "tiers": shared},
        "providers": {provider: {"tiers": own}},
    }


@settings(max_examples=60, deadline=None)
@given(document=tiered_documents(), which=st.sampled_from(sorted(PROVIDERS)))
def test_every_prompt_a_provider_is_probed_with_is_in_exactly_one_tier(
    document: dict[str, Any], which: str
) -> None:
    settings = Settings.model_validate(document)
    tiers = tiers_of(settings, which)
    in_tiers = [p for tier in tiers for p in tier.prompts]
    try:
        probed = {t.prompt for t in plan_targets(settings, [which])}
    except ConfigError:  # nothing to probe: no prompt the provider can answer
        probed = set()
    assert len(in_tiers) == len(set(in_tiers))
    assert set(in_tiers) == probed
    assert all(tier.prompts and tier.interval > 0 for tier in tiers)
