def test_the_four_seed_providers_import() -> None:
    from providers import AiChatOnline, AutonomousAI, CodeLinkAva, RobocodersAPI

    assert [p.__name__ for p in (RobocodersAPI, AiChatOnline, AutonomousAI, CodeLinkAva)] == [
        "RobocodersAPI",
        "AiChatOnline",
        "AutonomousAI",
        "CodeLinkAva",
    ]
