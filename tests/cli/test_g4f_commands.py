"""The g4f commands end to end: `harness probe --g4f` against the emulator through a real
g4f provider, `harness g4f working --json`, `harness flags --g4f --write-source`, and
the install hint (exit 2) when gpt4free is missing."""

from __future__ import annotations

import gc
import importlib.metadata
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.main import main
from harness.emulator import Emulator, Fault, FaultSpec
from harness.emulator.faults import OPENAI
from harness.emulator.openai import base_url
from harness.store.rows import ms_of, tenths

# gpt4free's own code leaves some client sessions and connectors unclosed (aiohttp
# reports them when they are collected): its bug, collected and ignored here so that it
# surfaces in no other test.
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

G4F_MISSING = importlib.util.find_spec("g4f") is None
needs_g4f = pytest.mark.skipif(G4F_MISSING, reason="the g4f extra is not installed")


@pytest.fixture(autouse=True)
def collect_leftovers() -> Iterator[None]:
    yield
    gc.collect()


def config(tmp_path: Path, emulator: Emulator, *, enabled: bool = False) -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(
        f"""
[deadlines]
connect = 2
first_chunk = 5
total = 10

[g4f]
enabled = {str(enabled).lower()}
include = ["Groq"]

[g4f.providers.Groq]
base_url = "{base_url(emulator.url)}"
models = ["emulated-chat"]
""",
        encoding="utf-8",
    )
    return path


@needs_g4f
def test_probe_g4f_runs_a_real_g4f_provider_through_the_pipeline(
    runner: CliRunner, emulator_thread: Emulator, tmp_path: Path
) -> None:
    settings = str(config(tmp_path, emulator_thread))
    result = runner.invoke(main, ["--config", settings, "probe", "--g4f", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    [probe] = document["results"]
    assert (probe["provider"], probe["model"], probe["ok"]) == ("g4f.Groq", "emulated-chat", True)
    assert document["summary"]["working"] == {"g4f.Groq": True}

    working = runner.invoke(main, ["--config", settings, "g4f", "working", "--json"])
    assert working.exit_code == 0, working.output
    listed = json.loads(working.stdout)
    assert listed["g4f_version"] == "8.8.6"
    assert listed["flags"] == {"working": ["Groq"], "not_working": [], "unknown": []}
    [entry] = listed["providers"]
    assert entry["provider"] == "Groq"
    assert entry["target"] == "g4f.Groq"
    assert entry["since"]
    [model] = entry["models"]
    assert model["model"] == "emulated-chat"
    assert model["state"] == "up"
    assert model["ttfc_p50_ms"] == ms_of(tenths(probe["ttfc_ms"]))  # as stored

    plain = runner.invoke(main, ["--config", settings, "probe", "--g4f"])
    assert "gpt4free 8.8.6: 1 provider(s) chosen" in plain.stderr

    table = runner.invoke(main, ["--config", settings, "g4f", "working"])
    assert table.exit_code == 0
    assert "Groq" in table.stdout


@needs_g4f
def test_flags_write_source_prints_a_patch_for_the_installed_g4f_and_changes_nothing(
    runner: CliRunner, emulator_thread: Emulator, tmp_path: Path
) -> None:
    import g4f.Provider

    settings = str(config(tmp_path, emulator_thread))
    emulator_thread.set_fault(OPENAI, FaultSpec(Fault.http_500))
    probed = runner.invoke(main, ["--config", settings, "probe", "--g4f"])
    assert probed.exit_code == 1
    groq = g4f.Provider.ProviderLoader.from_name("Groq")
    source = Path(importlib.import_module(groq.__module__).__file__ or "")
    before = source.read_bytes()

    result = runner.invoke(main, ["--config", settings, "flags", "--g4f", "--write-source"])
    assert result.exit_code == 0, result.output
    relative = source.relative_to(source.parents[len(groq.__module__.split(".")) - 1])
    assert f"+++ b/{relative.as_posix()}" in result.stdout
    assert "+    working = False" in result.stdout
    assert source.read_bytes() == before  # printed, not applied

    unchanged = runner.invoke(main, ["--config", settings, "g4f", "working", "--json"])
    assert json.loads(unchanged.stdout)["providers"] == []
    assert json.loads(unchanged.stdout)["flags"]["not_working"] == ["Groq"]


@needs_g4f
def test_an_offline_run_leaves_an_empty_patch_and_says_why(
    runner: CliRunner, tmp_path: Path
) -> None:
    settings = tmp_path / "harness.toml"
    settings.write_text(
        '[connectivity]\nnames = ["name.invalid"]\n\n[g4f]\ninclude = ["Groq"]\n',
        encoding="utf-8",
    )
    probed = runner.invoke(main, ["--config", str(settings), "probe", "--g4f"])
    assert "0 passed, 0 failed, 1 inconclusive" in probed.stdout, probed.output

    result = runner.invoke(main, ["--config", str(settings), "flags", "--g4f", "--write-source"])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no flag to change: 1 provider(s) unknown" in result.stderr


@needs_g4f
def test_g4f_table_writes_the_measured_providers_table(
    runner: CliRunner, emulator_thread: Emulator, tmp_path: Path
) -> None:
    settings = str(config(tmp_path, emulator_thread))
    assert runner.invoke(main, ["--config", settings, "probe", "--g4f"]).exit_code == 0
    out = tmp_path / "providers.md"

    result = runner.invoke(main, ["--config", settings, "g4f", "table", "-o", str(out)])

    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    groq = next(line for line in lines if "`g4f.Provider.Groq`" in line)
    assert "![Active]" in groq
    image = next(line for line in lines if "`g4f.Provider.StabilityAI_SD35Large`" in line)
    assert "![Unknown]" in image
    assert "|`OpenaiTemplate`|a base class, not a provider|" in lines
    assert "## Providers: no auth required" in lines


@needs_g4f
def test_g4f_options_are_checked(runner: CliRunner) -> None:
    for args, message in [
        (["probe", "--g4f-provider", "Groq"], "need --g4f"),
        (["probe", "--g4f", "-p", "AutonomousAI"], "--g4f-provider NAME, not -p"),
        (["probe", "--g4f", "--sandbox"], "cannot be combined"),
        (["probe", "--g4f", "--g4f-provider", "NoSuchProvider"], "unknown g4f provider"),
    ]:
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["probe", "--g4f"],
        ["g4f", "working"],
        ["g4f", "working", "--json"],
        ["g4f", "table"],
        ["flags", "--g4f", "--write-source"],
    ],
)
def test_without_g4f_the_commands_say_how_to_install_it(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        if name == "g4f":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "pip install -e '.[g4f]'" in result.stderr
    assert result.stdout == ""
