"""Flag patches on the real gpt4free classes: unknown is not "not working".

A provider's measured flag has three values. Only a conclusive one that differs from
the shipped flag is written into gpt4free's source; an offline run, where nothing is
conclusive, yields an empty patch that says why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator import Emulator
from harness.emulator.openai import base_url
from harness.pipeline.run import plan_targets, probe_and_record
from harness.result import Source
from harness.settings.config import Settings
from harness.store import open_store
from harness.targets.g4f import install
from harness.targets.source_flags import flag_edits
from harness.targets.sources import source_flags_file
from providers.flags import read_flags

pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

DEADLINES = {"connect": 1.0, "first_chunk": 2.0, "stall": 1.0, "total": 4.0}
MODEL = "emulated-chat"


async def probe_runs(settings: Settings, runs: int, **choice: bool) -> None:
    installed = await install(settings.g4f, **choice)
    targets = plan_targets(settings, installed.names)
    async with open_store(settings.store_url) as store:
        for _ in range(runs):
            await probe_and_record(settings, store, targets, source=Source.LIVE)


@pytest.mark.usefixtures("no_network")
async def test_an_offline_run_of_every_provider_yields_an_empty_patch_that_says_why(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, concurrency=200, deadlines=DEADLINES)

    await probe_runs(settings, 1, every=True, include_auth=True)

    flags = read_flags(source_flags_file(settings, Source.LIVE))
    unknown = [name for name, flag in flags.items() if flag is None]
    # Only a local service's provider is conclusive offline: nothing listens here.
    assert {name for name, flag in flags.items() if flag is not None} <= {"g4f.OmniRoute"}
    patch = await flag_edits(settings, for_g4f=True)
    assert patch.edits == []
    assert f"{len(unknown)} provider(s) unknown" in patch.why_empty()


@pytest.mark.usefixtures("no_network")
async def test_a_provider_failing_three_runs_is_the_only_one_switched_off(
    tmp_path: Path, emulator: Emulator
) -> None:
    local = base_url(emulator.url)
    settings = Settings(
        data_dir=tmp_path,
        deadlines=DEADLINES,
        g4f={
            "include": ["Groq", "LLM7", "OpenRouterFree", "Qwen", "TeachAnything"],
            "providers": {
                "Groq": {"base_url": local, "models": [MODEL]},
                "LLM7": {"base_url": local, "models": [MODEL]},
                # Nothing listens on port 9: every call fails, conclusively.
                "OpenRouterFree": {"base_url": "http://127.0.0.1:9/v1", "models": [MODEL]},
            },
        },
    )

    await probe_runs(settings, 3)

    flags = read_flags(source_flags_file(settings, Source.LIVE))
    assert flags == {
        "g4f.Groq": True,
        "g4f.LLM7": True,
        "g4f.OpenRouterFree": False,
        "g4f.Qwen": None,  # offline: unknown
        "g4f.TeachAnything": None,
    }
    patch = await flag_edits(settings, for_g4f=True)
    assert [edit.path.name for edit in patch.edits] == ["OpenRouter.py"]
    (edit,) = patch.edits
    added = set(edit.new.splitlines()) - set(edit.old.splitlines())
    assert {line.strip() for line in added} == {"working = False"}
