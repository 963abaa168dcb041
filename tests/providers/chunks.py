"""Reading a provider's stream in tests."""

from providers import AsyncResult, Chunk, FinishReason


async def collect(result: AsyncResult) -> list[Chunk]:
    """Every item the stream yields."""
    return [chunk async for chunk in result]


async def text_of(result: AsyncResult) -> str:
    """The stream's text, without its finish items."""
    return "".join(c for c in await collect(result) if not isinstance(c, FinishReason))
