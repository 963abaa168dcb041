"""Whatever harness.toml holds, loading it gives valid settings or one ConfigError naming a field.

The documents are generated from the settings models themselves (every table and field,
walked through ``model_fields``), so a field added to any table is fed wrong types,
out-of-range numbers and strangers beside it without this test changing. Some documents
are then broken as text, so that the TOML parser's errors are covered too.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
import types
import typing
from collections.abc import Iterator
from datetime import UTC, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from harness.errors import ConfigError
from harness.pipeline.run import deadlines_of, objectives_of, thresholds_of
from harness.settings.config import Settings, load_settings
from harness.store import make_store
from providers import PROVIDERS

KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
NAMES = st.sampled_from([*PROVIDERS, "Nope", "AutonomousAI/llama", "CodeLinkAva/nope"]) | KEYS
WORDS = st.sampled_from(
    [
        "5s",
        "2min",
        "-1s",
        "1d",
        "0",
        "auto",
        "discover",
        "down",
        "up",
        "http://127.0.0.1:9/v1",
        "ftp://x",
        "sqlite:///x.db",
        "sqlite:///",
        "postgresql://u@127.0.0.1/db",
        "mysql://u@h/db",
        "json://127.0.0.1:9/hook",
        "nonsense://x",
    ]
)
LEAVES = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 10_001),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    WORDS,
    st.datetimes(timezones=st.just(UTC)),
)
JUNK = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
"""Any TOML value at all: what a wrong type looks like."""


def document(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    """A table for ``model``: some of its fields, each a plausible value or junk, and at
    times a key the model does not know."""
    fields = {name: value_for(info.annotation) for name, info in model.model_fields.items()}

    @st.composite
    def table(draw: st.DrawFn) -> dict[str, Any]:
        chosen = draw(st.lists(st.sampled_from(sorted(fields)), unique=True, max_size=4))
        out = {name: draw(fields[name] | JUNK) for name in chosen}
        if draw(st.integers(0, 9)) == 0:
            out[draw(KEYS)] = draw(JUNK)
        return out

    return table()


def value_for(annotation: Any) -> st.SearchStrategy[Any]:
    """A plausible value of ``annotation``, as TOML would carry it."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return st.deferred(lambda: document(annotation))
    if origin in (typing.Union, types.UnionType):
        return st.one_of([value_for(a) for a in args if a is not type(None)])
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (tuple, list):
        return st.lists(value_for(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(NAMES, value_for(args[1]), max_size=2)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return st.sampled_from([member.value for member in annotation])
    plain: dict[Any, st.SearchStrategy[Any]] = {
        bool: st.booleans(),
        int: st.integers(-2, 20) | st.integers(-(2**63), 2**63 - 1),
        float: st.floats(-10, 1e7) | st.integers(-2, 100_000),
        timedelta: WORDS | st.floats(-10, 1e6),
        str: WORDS | st.text(max_size=12),
        Path: st.text(max_size=12),
    }
    return plain.get(annotation, JUNK)


def broken(text: str) -> st.SearchStrategy[str]:
    """``text`` with a piece cut out or something stuck in."""
    return st.tuples(
        st.integers(0, len(text)), st.integers(0, 8), st.sampled_from("[]=\"'\n{}#\\")
    ).map(lambda cut: text[: cut[0]] + cut[2] + text[cut[0] + cut[1] :])


@st.composite
def settings_files(draw: st.DrawFn) -> str:
    text = tomli_w.dumps(draw(document(Settings)))
    return draw(broken(text)) if draw(st.booleans()) else text


@pytest.fixture(scope="module")
def config_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory) / "harness.toml"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(text=settings_files())
def test_a_document_gives_settings_or_a_config_error_naming_a_field(
    config_file: Path, text: str
) -> None:
    config_file.write_text(text, encoding="utf-8")
    try:
        loaded = load_settings(config_file)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        if message.startswith(f"{config_file} is not valid TOML"):
            event("refused: not TOML")
            return
        prefix = f"invalid configuration in {config_file}: "
        assert message.startswith(prefix), message
        # The first field named is one the document or the settings have.
        keys = tomllib.loads(text)
        fields = {*Settings.model_fields, *keys, *(json.dumps(k, ensure_ascii=False) for k in keys)}
        named = message.removeprefix(prefix)
        assert named.startswith(tuple(f"{f}{end}" for f in fields for end in ".:")), message
        event(f"refused: {named.partition(':')[0]}")
        return
    event("accepted")
    # What was accepted holds together wherever a run uses it.
    thresholds_of(loaded)
    deadlines_of(loaded)
    objectives_of(loaded)
    make_store(loaded.store_url)
