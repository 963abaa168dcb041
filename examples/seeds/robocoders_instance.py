# Seed 000 (RobocodersAPI), as written; only the import path differs.
from providers import RobocodersAPI

async def main():
    # Инициализация объекта RobocodersAPI
    provider = RobocodersAPI(model='GeneralCodingAgent')

    # Формирование списка сообщений для отправки
    messages = [
        {'role': 'user', 'content': 'Привет, как дела?'},
        {'role': 'assistant', 'content': 'Хорошо, а у тебя?'}
    ]

    # Запуск асинхронной генерации ответов
    async for message in provider.create_async_generator(messages=messages):
        print(f'Ответ от модели: {message}')

if __name__ == '__main__':
    import asyncio
    asyncio.run(main())
