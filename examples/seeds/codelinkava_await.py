# Seed 003 (CodeLinkAva), as written; only the import path differs, and the
# example's commented-out last line is run.
import asyncio

from providers import CodeLinkAva

# Пример вызова create_async_generator
messages = [{"role": "user", "content": "Hello, how are you?"}]
async def main():
    generator = CodeLinkAva.create_async_generator(model="gpt-3.5-turbo", messages=messages)
    async for message in await generator:
        print(message)

# Запуск примера
asyncio.run(main())
