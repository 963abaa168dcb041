# Seed 001 (AiChatOnline): the docstring example, in an asyncio entry point.
import asyncio

from providers import AiChatOnline


async def main():
    messages = [{'role': 'user', 'content': 'Hello'}]
    async for message in AiChatOnline.create_async_generator('gpt-4o-mini', messages):
        print(message)

asyncio.run(main())
