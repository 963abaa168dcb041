"""The calling forms of the seed documents, on a provider that needs no network."""

from collections.abc import AsyncGenerator

from providers.base import AsyncGeneratorProvider, AsyncResult, ProviderModelMixin
from providers.messages import Chunk, FinishReason, Messages


class Echo(AsyncGeneratorProvider, ProviderModelMixin):
    default_model = "one"
    models = ["one", "two"]  # noqa: RUF012

    @classmethod
    async def _stream(
        cls,
        model: str,
        messages: Messages,
        *,
        proxy: str | None,
        stream: bool,
        timeout: float | None,
        shout: bool = False,
    ) -> AsyncGenerator[Chunk, None]:
        text = f"{model}:{messages[-1]['content']}:{proxy}"
        yield text.upper() if shout else text
        yield FinishReason("stop")


MESSAGES: Messages = [{"role": "user", "content": "hi"}]


async def collect(result: AsyncResult) -> list[Chunk]:
    return [chunk async for chunk in result]


async def test_the_class_call_with_model_and_messages() -> None:
    assert await collect(Echo.create_async_generator(model="two", messages=MESSAGES)) == [
        "two:hi:None",
        FinishReason("stop"),
    ]


async def test_the_positional_class_call() -> None:
    assert (await collect(Echo.create_async_generator("two", MESSAGES)))[0] == "two:hi:None"


async def test_awaiting_the_result_first_still_iterates() -> None:
    chunks = [c async for c in await Echo.create_async_generator(model="one", messages=MESSAGES)]
    assert chunks[0] == "one:hi:None"


async def test_an_instance_made_with_a_model_supplies_model_and_proxy() -> None:
    provider = Echo(model="two", proxy="http://127.0.0.1:3128")
    chunks = await collect(provider.create_async_generator(messages=MESSAGES))
    assert chunks[0] == "two:hi:http://127.0.0.1:3128"


async def test_an_instance_without_a_model_uses_the_default_model() -> None:
    assert (await collect(Echo().create_async_generator(messages=MESSAGES)))[0] == "one:hi:None"


async def test_declared_options_are_passed_and_unknown_ones_dropped() -> None:
    chunks = await collect(
        Echo.create_async_generator(model="one", messages=MESSAGES, shout=True, web_search=True)
    )
    assert chunks[0] == "ONE:HI:NONE"


async def test_instances_do_not_share_their_settings() -> None:
    first, second = Echo(model="one"), Echo(model="two")
    assert (await collect(first.create_async_generator(messages=MESSAGES)))[0].startswith("one")
    assert (await collect(second.create_async_generator(messages=MESSAGES)))[0].startswith("two")
