"""Bad input gets a clear one-line message and exit code 2, and costs no stored data.

Each command runs (through click's CliRunner) against a data directory whose store
already holds a sandbox run; after the refusal the store file is byte for byte what
it was. A corrupt Robocoders credentials cache is not an error at all: the next
probe fetches fresh credentials and rewrites the file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from unclean import crashed_with_it_open

from harness.cli.main import main
from providers.RobocodersAPI import TokenCache

EXIT_USAGE = 2


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding one sandbox run of every provider (made once)."""
    root = tmp_path_factory.mktemp("template")
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(root / "data"), "probe", "--all", "--sandbox"],
        env={"HARNESS_CACHE_DIR": str(root / "cache")},
    )
    assert result.exit_code == 0, result.output
    return root / "data"


@pytest.fixture
def data_dir(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template data directory."""
    return Path(shutil.copytree(template, tmp_path / "data"))


def fingerprint(data_dir: Path) -> dict[str, str]:
    """Path -> digest of every file in the data directory (each source's store and flags)."""
    files = {
        path.relative_to(data_dir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in data_dir.rglob("*")
        if path.is_file()
    }
    assert files, f"nothing stored under {data_dir}"
    return files


def kept(before: dict[str, str], data_dir: Path) -> bool:
    """Whether every file stored before is still there, byte for byte (reading a source
    whose store does not exist yet may create it empty)."""
    after = fingerprint(data_dir)
    return all(after.get(path) == digest for path, digest in before.items())


def harness(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_refused(result: Result, *fragments: str) -> None:
    """Exit 2 with a message naming the problem, and no traceback."""
    assert result.exit_code == EXIT_USAGE, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    message = result.stderr.strip()
    assert message.startswith(("error: ", "Usage: ")), message
    for fragment in fragments:
        assert fragment in message


CONFIGS = {
    "not TOML": ("data_dir = [\n", "is not valid TOML"),
    "unknown key": ("concurency = 3\n", "concurency: unknown key; did you mean 'concurrency'?"),
    "unknown section": ("[treshold]\ndown_after = 2\n", "treshold: unknown key"),
    "unknown key in a section": ("[thresholds]\ndown = 2\n", "thresholds.down: unknown key"),
    "wrong type": ('concurrency = "many"\n', "concurrency: Input should be a valid integer"),
    "out of range": ("[deadlines]\ntotal = -1\n", "deadlines.total"),
    "unknown provider": ("[providers.Nope]\nenabled = true\n", "unknown provider(s) ['Nope']"),
    "unknown model": (
        '[providers.AutonomousAI]\nmodels = ["gpt-5"]\n',
        "Model is not supported: gpt-5",
    ),
    "bad base_url": (
        '[providers.CodeLinkAva]\nbase_url = "ftp://x"\n',
        "providers.CodeLinkAva.base_url",
    ),
    "not UTF-8": ("\udcff\n", "cannot read configuration file"),
    "calm beyond the flap window": (
        "[thresholds]\nflap_window_s = 60\nflap_calm_s = 3600\n",
        "thresholds.flap_calm_s: 3600 s is longer than thresholds.flap_window_s (60 s)",
    ),
    "a phase deadline beyond the total": (
        "[deadlines]\ntotal = 20\nfirst_chunk = 30\n",
        "deadlines.first_chunk: 30 s is longer than deadlines.total (20 s)",
    ),
    "jitter beyond the interval": (
        "[serve]\ninterval = 10\njitter = 20\n",
        "serve.jitter: 20 s is longer than serve.interval (10 s)",
    ),
    "a store of another scheme": (
        'store = "mysql://u@h/db"\n',
        "store: unsupported store URL 'mysql://...'",
    ),
    "a cap on listed endpoint models": (
        '[endpoints.mine]\nbase_url = "http://127.0.0.1:9/v1"\nmodels = ["a"]\nmax_models = 1\n',
        "endpoints.mine.max_models: caps discovered models only",
    ),
    "a regression without its history": (
        "retention_days = 2\n[objectives]\nregression = 1.5\n",
        "retention_days: 2 days keep less than the 7-day history",
    ),
    "a regression without its raw results": (
        '[retention]\nraw = "3d"\n[objectives]\nregression = 1.5\n',
        "retention.raw: 3 days keep less than the 7-day history",
    ),
    "retention given both ways": (
        'retention_days = 30\n[retention]\nraw = "14d"\n',
        "retention_days: is replaced by [retention]",
    ),
    "hourly rollups kept less than raw results": (
        '[retention]\nraw = "30d"\nhourly = "7d"\n',
        "retention.hourly: 7 days keeps less than retention.raw (30 days)",
    ),
    "a retention that is no duration": (
        '[retention]\ndaily = "always"\n',
        "retention.daily: expected a duration such as 500ms",
    ),
    "a history without a regression": (
        '[objectives."CodeLinkAva"]\nmin_history = 5\n',
        "objectives.CodeLinkAva.min_history: counts the passes a regression objective needs",
    ),
    "a gpt4free provider both in and out": (
        '[g4f]\ninclude = ["Groq"]\nexclude = ["Groq"]\n',
        "g4f.exclude: ['Groq'] also in include",
    ),
}


@pytest.mark.parametrize("command", [["probe", "--all", "--sandbox"], ["report"], ["list"]])
@pytest.mark.parametrize("case", list(CONFIGS))
def test_a_bad_settings_file_is_refused_and_the_store_kept(
    data_dir: Path, tmp_path: Path, case: str, command: list[str]
) -> None:
    text, fragment = CONFIGS[case]
    config = tmp_path / "harness.toml"
    config.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = fingerprint(data_dir)

    result = harness("--config", str(config), "--data-dir", str(data_dir), *command)

    if case == "unknown model" and command != ["probe", "--all", "--sandbox"]:
        # Models are checked when a run is planned; listing and reporting need no plan.
        assert result.exit_code == 0, result.output
    else:
        assert_refused(result, fragment)
        assert len(result.stderr.strip().splitlines()) == 1
    assert kept(before, data_dir)


def test_a_missing_settings_file_is_refused(data_dir: Path) -> None:
    result = harness("--config", str(data_dir / "nope.toml"), "list")

    assert_refused(result, "configuration file not found")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-p", "Nope"], "unknown provider 'Nope'"),
        (["-p", "AutonomousAI", "-m", "gpt-5"], "Model is not supported: gpt-5"),
        (["--all", "--prompt", "nope"], "unknown prompt(s) ['nope']"),
        (["--all", "--timeout", "0"], "--timeout"),
        (["--all", "--concurrency", "0"], "--concurrency"),
        (["-m", "llama", "--all"], "needs exactly one -p"),
    ],
)
def test_unknown_names_are_refused_before_anything_is_probed(
    data_dir: Path, args: list[str], fragment: str
) -> None:
    before = fingerprint(data_dir)

    result = harness("--data-dir", str(data_dir), "probe", "--sandbox", *args)

    assert_refused(result, fragment)
    assert kept(before, data_dir)


@pytest.mark.parametrize(
    "upstream",
    [
        "ftp://127.0.0.1:8765",
        "not a url",
        "http://",
        "127.0.0.1:8765",
        "http://127.0.0.1:99999",
        "http://[::1",
        "http://127.0.0.1:8765/?q=1",
        "http://127.0.0.1;8765",
        "http://exa mple.com",
        "http://local\x00host",
    ],
)
def test_a_bad_upstream_url_is_refused(data_dir: Path, upstream: str) -> None:
    before = fingerprint(data_dir)

    result = harness("--data-dir", str(data_dir), "probe", "--all", "--upstream", upstream)

    assert_refused(result, "upstream")
    assert kept(before, data_dir)


@pytest.mark.parametrize(
    "command",
    [["probe", "--all", "--sandbox"], ["report"], ["serve", "--sandbox", "--port", "0"]],
)
def test_a_data_directory_that_cannot_exist_is_refused(tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    result = harness("--data-dir", str(blocker / "data"), *command)

    assert_refused(result, "cannot create the data directory")


def garbage(db: Path) -> None:
    db.write_bytes(b"this is not a database\n" * 100)


def torn(db: Path) -> None:
    """Overwrite the middle of the file, as a torn write or a bad disk would."""
    data = bytearray(db.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = b"\xa5" * 4096
    db.write_bytes(bytes(data))


def truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("damage", [garbage, torn, truncated], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "command",
    [
        ["probe", "--all", "--sandbox"],
        ["report", "--sandbox"],
        ["serve", "--sandbox", "--port", "0"],
    ],
)
def test_after_an_unclean_shutdown_a_corrupt_store_is_refused_and_left_untouched(
    data_dir: Path, damage: object, command: list[str]
) -> None:
    db = data_dir / "sandbox" / "harness.db"  # the store of the template's sandbox run
    for leftover in db.parent.glob("harness.db-*"):
        leftover.unlink()
    assert callable(damage)
    damage(db)
    crashed_with_it_open(db)  # a clean close skips the check: `harness store check` runs it
    before = fingerprint(data_dir)

    result = harness("--data-dir", str(data_dir), *command)

    assert_refused(result, str(db))
    assert re.search(r"corrupt|not a usable SQLite database", result.stderr)
    assert kept(before, data_dir)


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``harness emulate`` in a child process (CliRunner tests run their own loop)."""
    out = tmp_path_factory.mktemp("emulate") / "out"
    with out.open("wb") as handle:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("harness")), "emulate", "--port", "0"],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(400):
            found = re.search(r"at (http://\S+)", out.read_text())
            if found:
                break
            assert process.poll() is None, out.read_text()
            subprocess.run(["sleep", "0.05"], check=True)
        else:
            raise AssertionError("harness emulate printed no URL")
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"", b"[]", b'{"access_token": 5, "sid": null}', b"\xff\xfe\x00garbage"],
    ids=["broken JSON", "empty", "a list", "wrong types", "binary"],
)
def test_a_corrupt_robocoders_cache_heals_itself(
    data_dir: Path, isolated_environment: Path, emulator_url: str, content: bytes
) -> None:
    cache = TokenCache.for_upstream(isolated_environment / "cache", emulator_url).path
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(content)

    result = harness(
        "--data-dir",
        str(data_dir),
        "probe",
        "-p",
        "RobocodersAPI",
        "-m",
        "GeneralCodingAgent",
        "--upstream",
        emulator_url,
    )

    assert result.exit_code == 0, result.output
    healed = json.loads(cache.read_text())
    assert isinstance(healed["access_token"], str)
    assert isinstance(healed["sid"], str)
    assert healed["access_token"]
    assert healed["sid"]


def test_an_unwritable_credentials_cache_does_not_count_against_the_provider(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(blocker / "cache"))

    result = harness(
        "--data-dir", str(data_dir), "probe", "-p", "RobocodersAPI", "-m", "RepoAgent", "--sandbox"
    )

    assert result.exit_code == 0, result.output
