import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.targets.flags import read_model_states, source_edits, source_patch, write_flags
from providers import PROVIDERS, AutonomousAI, CodeLinkAva
from providers.flags import apply_flags, read_flags


@pytest.fixture
def restore_flags() -> object:
    saved = {name: p.working for name, p in PROVIDERS.items()}
    yield saved
    for name, working in saved.items():
        PROVIDERS[name].working = working


def test_written_flags_read_back(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"AutonomousAI": True}, {"AutonomousAI": {"llama": "up"}})
    assert read_flags(path) == {"AutonomousAI": True}
    assert read_model_states(path) == {"AutonomousAI": {"llama": "up"}}


def test_a_missing_or_corrupt_flags_file_changes_nothing(tmp_path: Path) -> None:
    assert read_flags(tmp_path / "absent.json") == {}
    (tmp_path / "bad.json").write_text("{")
    assert read_flags(tmp_path / "bad.json") == {}


def test_applied_flags_set_working_on_the_named_providers(restore_flags: object) -> None:
    apply_flags(PROVIDERS.values(), {"AutonomousAI": True})
    assert AutonomousAI.working is True
    assert CodeLinkAva.working is False


def test_an_unknown_flag_is_written_as_null_and_read_back_as_none(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"CodeLinkAva": None}, {"CodeLinkAva": {"gpt-3.5-turbo": "unknown"}})

    assert json.loads(path.read_text())["providers"]["CodeLinkAva"]["working"] is None
    assert read_flags(path) == {"CodeLinkAva": None}


def test_an_unknown_flag_leaves_the_shipped_one(restore_flags: object) -> None:
    shipped = AutonomousAI.working

    apply_flags(PROVIDERS.values(), {"AutonomousAI": None, "CodeLinkAva": True})

    assert AutonomousAI.working is shipped
    assert CodeLinkAva.working is True


def test_the_source_patch_never_writes_an_unknown_flag() -> None:
    assert source_edits({"AutonomousAI": None, "CodeLinkAva": None}) == []


def test_the_source_patch_sets_the_measured_flag(tmp_path: Path) -> None:
    edits = source_edits({"AutonomousAI": True, "CodeLinkAva": False})
    assert [e.path.name for e in edits] == ["AutonomousAI.py"]
    patch = source_patch(edits, Path.cwd())
    assert "-    working = False" in patch
    assert "+    working = True" in patch
    assert patch.startswith("--- a/")


def test_flags_file_is_json_with_a_generation_time(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"CodeLinkAva": False}, {})
    document = json.loads(path.read_text())
    assert document["providers"]["CodeLinkAva"]["working"] is False
    assert "generated_at" in document


def test_writing_some_providers_flags_keeps_every_other_providers_entry(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    write_flags(path, {"A": True, "B": False}, {"A": {"m": "up"}, "B": {"m": "down"}})
    write_flags(path, {"B": True}, {"B": {"m": "up", "n": "degraded"}})
    assert read_flags(path) == {"A": True, "B": True}
    assert read_model_states(path) == {"A": {"m": "up"}, "B": {"m": "up", "n": "degraded"}}


def test_the_providers_entries_stay_sorted_by_name_as_they_are_updated(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    for name in ("C", "A", "B"):
        write_flags(path, {name: None}, {})
    assert list(json.loads(path.read_text())["providers"]) == ["A", "B", "C"]


def test_a_corrupt_flags_file_is_written_afresh(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    path.write_text("{")
    write_flags(path, {"A": True}, {"A": {"m": "up"}})
    assert read_flags(path) == {"A": True}


def test_writes_from_many_threads_at_once_all_land(tmp_path: Path) -> None:
    path = tmp_path / "flags.json"
    names = [f"P{i}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: write_flags(path, {name: True}, {name: {"m": "up"}}), names))
    assert read_flags(path) == dict.fromkeys(names, True)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.dictionaries(st.sampled_from(["A", "B", "C", "g4f.D"]), st.none() | st.booleans()),
        max_size=8,
    )
)
def test_the_file_holds_each_providers_latest_flag(runs: list[dict[str, bool | None]]) -> None:
    expected: dict[str, bool | None] = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "flags.json"
        for working in runs:
            write_flags(path, working, {name: {"m": str(flag)} for name, flag in working.items()})
            expected.update(working)
        assert read_flags(path) == expected
        assert read_model_states(path) == {name: {"m": str(f)} for name, f in expected.items()}
