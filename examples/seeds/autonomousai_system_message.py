# Seed 002 (AutonomousAI), as written; only the import path differs.
from providers import AutonomousAI
import asyncio

async def main():
    model = "llama"
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"}
    ]

    async for response in AutonomousAI.create_async_generator(model=model, messages=messages, stream=True):
        print(response, end="")

if __name__ == "__main__":
    asyncio.run(main())
