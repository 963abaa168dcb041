"""Two endpoints in harness.toml (a remote one with a key from the environment, a local
one) are listed, probed and reported exactly like the seed providers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from harness.cli.main import main
from providers import PROVIDERS

KEY = "gsk_remoteExampleKey0123456789"


def write_config(tmp_path: Path, local_url: str, extra: str = "") -> Path:
    path = tmp_path / "harness.toml"
    path.write_text(
        f"""
[endpoints.groq]
base_url = "https://api.groq.com/openai/v1"
api_key_env = "HARNESS_TEST_GROQ_KEY"
models = ["llama-3.3-70b-versatile"]
headers = {{ "X-Title" = "harness" }}
max_tokens = 32

[endpoints.ollama]
base_url = "{local_url}/v1"
models = "discover"
max_models = 2
{extra}
"""
    )
    return path


@pytest.fixture(autouse=True)
def groq_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_TEST_GROQ_KEY", KEY)


def run(runner: CliRunner, config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_endpoints_are_listed_with_the_seed_providers(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    code, out, _ = run(runner, write_config(tmp_path, emulator_url), "list", "--json")
    assert code == 0
    rows = {row["provider"]: row for row in json.loads(out)["providers"]}
    assert {"RobocodersAPI", "groq", "ollama"} <= set(rows)
    assert rows["groq"]["models"] == {"llama-3.3-70b-versatile": "unknown"}
    assert rows["groq"]["supports_system_message"] is True
    assert KEY not in out


def test_all_probed_in_the_sandbox_then_reported(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    config = write_config(tmp_path, emulator_url)
    code, out, err = run(runner, config, "probe", "--all", "--sandbox", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    by_provider: dict[str, set[str]] = {}
    for result in results:
        by_provider.setdefault(result["provider"], set()).add(result["model"])
        assert result["ok"], result
        assert result["source"] == "sandbox"
    assert by_provider["groq"] == {"llama-3.3-70b-versatile"}
    assert by_provider["ollama"] == {"emulated-chat", "emulated-mini"}  # discovered, capped
    endpoint_results = [r for r in results if r["provider"] in ("groq", "ollama")]
    assert all(r["completion_tokens"] for r in endpoint_results)
    assert all(r["prompt_tokens"] for r in endpoint_results)
    assert KEY not in out

    out_dir = tmp_path / "reports"
    # Sandbox results live in the sandbox store: its report is the one that shows them.
    code, _, err = run(runner, config, "report", "--sandbox", "--out", str(out_dir))
    assert code == 0, err
    status = json.loads((out_dir / "status.json").read_text())
    assert status["providers"]["groq"]["working"] is True
    assert status["providers"]["ollama"]["models"]["emulated-mini"]["state"] == "up"
    assert (out_dir / "badges" / "groq.svg").exists() or any(out_dir.rglob("groq*.svg"))
    page = BeautifulSoup((out_dir / "index.html").read_text(), "html.parser")
    text = page.get_text(" ")
    assert "groq" in text
    assert "tokens/s" in text
    assert KEY not in (out_dir / "index.html").read_text()


def test_a_local_endpoint_is_probed_live(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    config = write_config(tmp_path, emulator_url)
    code, out, err = run(runner, config, "probe", "-p", "ollama", "--json")
    assert code == 0, err
    results = json.loads(out)["results"]
    assert {r["model"] for r in results} == {"emulated-chat", "emulated-mini"}
    assert all(r["ok"] and r["source"] == "live" for r in results)


def test_one_model_of_an_endpoint_is_probed(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    config = write_config(tmp_path, emulator_url)
    code, out, err = run(
        runner, config, "probe", "-p", "ollama", "-m", "emulated-reasoning", "--json"
    )
    assert code == 0, err
    assert [r["model"] for r in json.loads(out)["results"]] == ["emulated-reasoning"]


def test_a_discovering_endpoint_is_listed_with_the_models_of_its_last_run(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    config = write_config(tmp_path, emulator_url)
    assert run(runner, config, "probe", "-p", "ollama")[0] == 0
    code, out, err = run(runner, config, "list", "--json")
    assert code == 0, err
    (ollama,) = [p for p in json.loads(out)["providers"] if p["provider"] == "ollama"]
    assert ollama["models"] == {"emulated-chat": "up", "emulated-mini": "up"}


def test_a_dead_endpoint_is_probed_with_its_last_runs_models_and_fails(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    code, _, err = run(runner, write_config(tmp_path, emulator_url), "probe", "-p", "ollama")
    assert code == 0, err
    dead = write_config(tmp_path, "http://127.0.0.1:9")
    code, out, err = run(runner, dead, "probe", "-p", "ollama", "--json")
    assert code == 1, err
    results = json.loads(out)["results"]
    assert {r["model"] for r in results} == {"emulated-chat", "emulated-mini"}
    assert all(r["kind"] == "connect" for r in results)


def test_a_failed_first_discovery_leaves_nothing_to_probe_and_says_why(
    runner: CliRunner, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    code, _, err = run(runner, config, "probe", "-p", "ollama")
    assert code == 2
    assert "no models discovered for ollama" in err


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            '[endpoints.RobocodersAPI]\nbase_url = "http://127.0.0.1:1/v1"\n',
            "clashes with the built-in",
        ),
        (
            '[endpoints.codelinkava]\nbase_url = "http://127.0.0.1:1/v1"\n',
            "clashes with the built-in",
        ),
        ('[endpoints."a.b"]\nbase_url = "http://127.0.0.1:1/v1"\n', "endpoint name 'a.b'"),
        ('[endpoints.x]\nbase_url = "127.0.0.1:1/v1"\n', "endpoints.x.base_url"),
        ('[endpoints.x]\nbase_url = "http://h.test/v1"\nmodels = []\n', "non-empty list"),
        ('[endpoints.x]\nbase_url = "http://h.test/v1"\napi_key = "sk-x"\n', "api_key"),
        (
            '[endpoints.x]\nbase_url = "http://h.test/v1"\nheaders = { Authorization = "k" }\n',
            "api_key_env",
        ),
        (
            '[endpoints.x]\nbase_url = "http://h.test/v1"\napi_key_env = "not a name"\n',
            "api_key_env",
        ),
        ('[endpoints.x]\nbase_url = "http://h.test/v1"\nmax_tokens = 0\n', "max_tokens"),
        ("[providers.nothere]\nenabled = false\n", "unknown provider(s) ['nothere']"),
    ],
)
def test_a_bad_endpoint_is_refused_with_exit_2(
    runner: CliRunner, tmp_path: Path, block: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(block)
    code, _, err = run(runner, path, "list")
    assert code == 2
    assert message in err


def test_an_endpoint_takes_provider_settings(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    config = write_config(tmp_path, emulator_url, "[providers.groq]\nenabled = false\n")
    code, out, err = run(runner, config, "probe", "--all", "--sandbox", "--json")
    assert code == 0, err
    assert "groq" not in {r["provider"] for r in json.loads(out)["results"]}


def test_loading_another_configuration_replaces_the_endpoints(
    runner: CliRunner, tmp_path: Path, emulator_url: str
) -> None:
    run(runner, write_config(tmp_path, emulator_url), "list")
    assert {"groq", "ollama"} <= set(PROVIDERS)
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    run(runner, empty, "list")
    assert not {"groq", "ollama"} & set(PROVIDERS)
