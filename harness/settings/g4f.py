"""The ``[g4f]`` table of harness.toml: which gpt4free providers to probe, and how.

    [g4f]
    enabled = true              # harness serve schedules them; harness probe --g4f probes them
    include = ["Groq", "Qwen"]  # only these (default: those g4f marks working, without auth)
    exclude = ["Pi"]
    include_auth = false        # also those that need credentials (--g4f-include-auth)
    max_models = 3              # the cap on models per provider
    load_timeout = 15           # seconds one provider module may take to import

    [g4f.providers.Groq]
    models = ["llama-3.3-70b-versatile"]
    api_key_env = "GROQ_API_KEY"            # the key's environment variable, never the key
    base_url = "http://127.0.0.1:11434/v1"  # for providers that accept one (OpenAI-style)

Names are gpt4free's provider names (``Groq``, not ``g4f.Groq``). Whether a name exists
is known only once gpt4free is loaded, so unknown names are refused when the providers
are listed, not here.
"""

from __future__ import annotations

import os

from pydantic import Field, field_validator, model_validator

from harness.durations import Seconds
from harness.settings.fields import BaseUrl, EnvName, FieldConflict, Section


class G4FProviderSettings(Section):
    """One gpt4free provider: its models, where its API key is, a base URL standing in."""

    models: tuple[str, ...] | None = None
    api_key_env: EnvName | None = None
    base_url: BaseUrl | None = None

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (not value or not all(m.strip() for m in value)):
            raise ValueError("models must be a non-empty list of non-empty names")
        return value


class G4FSettings(Section):
    """The ``[g4f]`` table (see the module docstring)."""

    enabled: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_auth: bool = False
    max_models: int = Field(3, ge=1, le=100)
    load_timeout: Seconds = Field(15.0, gt=0)
    providers: dict[str, G4FProviderSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _models_within_cap(self) -> G4FSettings:
        for name, provider in self.providers.items():
            if provider.models is not None and len(provider.models) > self.max_models:
                raise FieldConflict(
                    f"providers.{name}.models",
                    f"{len(provider.models)} models exceed max_models = {self.max_models}",
                )
        return self

    @model_validator(mode="after")
    def _included_or_excluded(self) -> G4FSettings:
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise FieldConflict("exclude", f"{both} also in include: keep each in one list")
        return self

    def secrets(self) -> list[str]:
        """The API keys in force (read from the environment), for redaction."""
        values = (os.environ.get(p.api_key_env or "") for p in self.providers.values())
        return [value for value in values if value]

    def provider(self, name: str) -> G4FProviderSettings:
        """The settings of gpt4free provider ``name`` (defaults when none are given)."""
        return self.providers.get(name, G4FProviderSettings())
