"""The seed documents' examples, run as scripts against the emulators via HARNESS_UPSTREAM."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from harness.emulator import Emulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "seeds"


async def run_example(script: Path, upstream: str, cache: Path) -> tuple[int, str, str]:
    env = {**os.environ, "HARNESS_UPSTREAM": upstream, "HARNESS_CACHE_DIR": str(cache)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # These print each chunk on its own line; the emulators stream token-sized pieces.
        ("robocoders_instance.py", "Ответ от модели: Hell\nОтвет от модели: o!"),
        ("aichatonline_class_call.py", " happ\ny\n"),
        ("autonomousai_system_message.py", "Paris is the capital of France."),
        ("codelinkava_await.py", "FinishReason(reason='stop')"),
        ("autonomousai_stream_flags.py", "Hello! I am happy to help."),
    ],
)
async def test_each_seed_example_prints_the_emulators_answer(
    script: str, expected: str, emulator: Emulator, tmp_path: Path
) -> None:
    code, out, err = await run_example(EXAMPLES / script, emulator.url, tmp_path)
    assert code == 0, err
    assert expected in out
    assert err == ""


def test_every_example_is_tested() -> None:
    tested = {
        "robocoders_instance.py",
        "aichatonline_class_call.py",
        "autonomousai_system_message.py",
        "codelinkava_await.py",
        "autonomousai_stream_flags.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested
