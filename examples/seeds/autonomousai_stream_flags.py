# Seed 004 (AutonomousAI): the stream=True and stream=False examples, in an asyncio
# entry point. The seed's third example sends traffic through
# "http://proxy.example.com"; tests/providers exercises proxy= through a local proxy.
import asyncio

from providers import AutonomousAI


async def main():
    # Пример использования create_async_generator
    messages = [{"role": "user", "content": "Hello, how are you?"}]
    async for chunk in AutonomousAI.create_async_generator(model="llama", messages=messages, stream=True):
        print(chunk)

    # Пример использования create_async_generator без потоковой передачи
    messages = [{"role": "user", "content": "Tell me a joke."}]
    async for chunk in AutonomousAI.create_async_generator(model="qwen_coder", messages=messages, stream=False):
        print(chunk)

asyncio.run(main())
