"""The figures of a cost plan (pure: harness.policy.costs)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.policy.costs import (
    MONTH_DAYS,
    CostPlan,
    EndpointLoad,
    PromptLoad,
    TierLoad,
    prompt_loads,
    tier_loads,
)
from harness.policy.usage import Price


def plan(endpoints: list[EndpointLoad], budget: float | None = None) -> CostPlan:
    return CostPlan(
        targets=2,
        targets_from="the configured models",
        tiers=[TierLoad("default", 60.0, 2), TierLoad("suite", 3600.0, 4)],
        bytes_per_result=250.0,
        bytes_from="test",
        retention_days=14.0,
        endpoints=endpoints,
        max_cost_per_day=budget,
    )


def groq(price: Price | None) -> EndpointLoad:
    return EndpointLoad("groq", 1, [PromptLoad("ping", 1440.0, 20.0, 10.0, measured=True)], price)


def test_probes_rows_and_disk_follow_the_tiers() -> None:
    costs = plan([])

    assert costs.probes_per_hour == 2 * 60 + 4
    assert costs.rows_per_day == 124 * 24
    assert costs.bytes_per_day == 124 * 24 * 250
    assert costs.bytes_at_retention == 124 * 24 * 250 * 14


def test_money_per_day_and_month_comes_from_the_priced_endpoints() -> None:
    costs = plan([groq(Price(1.0, 2.0)), groq(None)])

    day = 1440 * (20 * 1.0 + 10 * 2.0) / 1_000_000
    assert costs.cost_per_day == pytest.approx(day)
    assert costs.cost_per_month == pytest.approx(day * MONTH_DAYS)
    assert costs.to_dict()["endpoints"]["groq"]["tokens_from"] == "stored usage"


def test_no_priced_endpoint_means_no_money_figure() -> None:
    assert plan([groq(None)]).cost_per_day is None
    assert not plan([groq(None)], budget=0.01).over_budget


def test_a_plan_above_the_budget_names_each_endpoints_cost() -> None:
    costs = plan([groq(Price(1000.0, 1000.0))], budget=1.0)

    assert costs.over_budget
    refusal = costs.budget_refusal()
    assert "groq 43.20" in refusal
    assert "max_cost_per_day = 1" in refusal
    assert "\n" not in refusal


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["default", "suite"]),
            st.sampled_from([60.0, 3600.0]),
            st.integers(min_value=0, max_value=1000),
        )
    )
)
def test_tier_loads_keep_every_probe(schedule: list[tuple[str, float, int]]) -> None:
    loads = tier_loads(schedule)

    assert sum(t.probes for t in loads) == sum(n for _, _, n in schedule)
    assert sum(t.per_hour for t in loads) == pytest.approx(
        sum(n * 3600 / interval for _, interval, n in schedule)
    )


def test_stored_usage_wins_over_the_estimate_prompt_by_prompt() -> None:
    loads = prompt_loads(
        {"ping": 10.0, "math": 5.0},
        {"ping": (30.0, 4.0), "math": None},
        {"ping": (9, 16), "math": (12, 16)},
    )

    assert [(p.prompt, p.prompt_tokens, p.measured) for p in loads] == [
        ("ping", 30.0, True),
        ("math", 12, False),
    ]
    assert EndpointLoad("e", 1, loads).tokens_from == "stored usage and prompt sizes"
