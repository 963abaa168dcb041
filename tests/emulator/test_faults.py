"""Fault specs, their command-line form, and how many requests they apply to."""

import pytest

from harness.emulator import PROVIDERS, Fault, FaultSpec, parse_fault
from harness.emulator.faults import FaultBoard
from providers import PROVIDERS as PROVIDER_CLASSES


def test_the_emulated_providers_are_the_provider_classes() -> None:
    assert set(PROVIDERS) == set(PROVIDER_CLASSES)


def test_a_mode_with_its_argument_is_parsed() -> None:
    assert parse_fault("AutonomousAI=http_429:5") == (
        "AutonomousAI",
        FaultSpec(Fault.http_429, retry_after=5),
    )


def test_delays_are_modes_whose_argument_is_the_delay() -> None:
    assert parse_fault("CodeLinkAva=first_chunk_delay:0.5") == (
        "CodeLinkAva",
        FaultSpec(Fault.first_chunk_delay, first_chunk_delay=0.5),
    )
    assert parse_fault("CodeLinkAva=chunk_delay:0.1")[1].chunk_delay == 0.1


def test_the_provider_name_is_read_in_any_case() -> None:
    assert parse_fault("robocodersapi=hang_headers") == (
        "RobocodersAPI",
        FaultSpec(Fault.hang_headers),
    )


def test_huge_line_takes_its_size() -> None:
    assert parse_fault("AiChatOnline=huge_line:1000000")[1].size == 1_000_000


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Nobody=http_500", "valid providers: RobocodersAPI"),
        ("AutonomousAI=explode", "valid modes: none"),
        ("AutonomousAI", "PROVIDER=MODE[:ARG]"),
        ("AutonomousAI=garbage:3", "takes no argument"),
        ("AutonomousAI=http_429:soon", "needs an integer"),
        ("AutonomousAI=chunk_delay", "needs a delay"),
        ("AutonomousAI=resource_limit", "RobocodersAPI only"),
    ],
)
def test_a_bad_fault_names_what_is_valid(text: str, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_fault(text)


def test_negative_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="chunk_delay"):
        FaultSpec(chunk_delay=-1)


def test_a_fault_applies_to_every_request_by_default() -> None:
    board = FaultBoard({"AutonomousAI": FaultSpec(Fault.http_500)})
    assert [board.take("AutonomousAI").mode for _ in range(3)] == [Fault.http_500] * 3


def test_a_counted_fault_applies_to_the_next_n_requests_only() -> None:
    board = FaultBoard()
    board.set("autonomousai", FaultSpec(Fault.http_500, times=2))
    modes = [board.take("AutonomousAI").mode for _ in range(4)]
    assert modes == [Fault.http_500, Fault.http_500, Fault.none, Fault.none]


def test_faults_are_per_provider_and_can_be_cleared() -> None:
    board = FaultBoard({"AutonomousAI": FaultSpec(Fault.http_500)})
    assert board.take("CodeLinkAva") == FaultSpec()
    board.clear("AutonomousAI")
    assert board.take("AutonomousAI") == FaultSpec()


def test_the_board_refuses_a_mode_foreign_to_the_provider() -> None:
    with pytest.raises(ValueError, match="RobocodersAPI only"):
        FaultBoard().set("CodeLinkAva", FaultSpec(Fault.resource_limit))
