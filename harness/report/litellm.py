"""The working endpoints as a LiteLLM ``model_list``: a router sends traffic only where
the harness last saw it work, fastest first.

Each working target of a configured endpoint becomes one deployment: its model string
is LiteLLM's provider prefix for the endpoint's protocol followed by the model, its
``api_base`` the endpoint's ``base_url``, its key an ``os.environ/VAR`` reference to
the variable the settings name (the key itself is never written). Deployments of one
model share its ``model_name``, so LiteLLM balances between the endpoints serving it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.report.working import TargetRow
from harness.settings.config import Settings

LITELLM_PREFIX = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
}
"""LiteLLM's provider prefix for each endpoint protocol the harness speaks."""


def litellm_params(
    protocol: str, model: str, base_url: str, api_key_env: str | None
) -> dict[str, Any] | None:
    """One deployment's ``litellm_params``; None for a protocol LiteLLM is not told of."""
    prefix = LITELLM_PREFIX.get(protocol)
    if prefix is None:
        return None
    if protocol == "anthropic":  # LiteLLM appends /v1/messages to the host's root itself
        base_url = base_url.rstrip("/").removesuffix("/v1")
    params: dict[str, Any] = {"model": f"{prefix}/{model}", "api_base": base_url}
    if api_key_env:
        params["api_key"] = f"os.environ/{api_key_env}"
    return params


def model_list(rows: Sequence[TargetRow], settings: Settings) -> dict[str, Any]:
    """``{"model_list": [...]}`` of the working endpoint targets among ``rows``, in
    their order (give them fastest first)."""
    deployments = []
    for row in rows:
        endpoint = settings.endpoints.get(row.provider)
        if endpoint is None or not row.working:
            continue
        params = litellm_params(row.protocol, row.model, endpoint.base_url, endpoint.api_key_env)
        if params is None:
            continue
        deployments.append(
            {
                "model_name": row.model,
                "litellm_params": params,
                "model_info": {"id": f"{row.provider}/{row.model}"},
            }
        )
    return {"model_list": deployments}
