"""The canned prompts a probe sends, each with the pure check its answer must pass.

A prompt is data: how to draw fresh parameters (a nonce, two numbers, a code word),
the messages those parameters produce, a check of the answer against them, and which
providers it applies to. Adding a prompt is one more entry in :data:`PROMPTS`.

Fresh randomness per run keeps a cached or canned answer from passing; passing the
parameters back in (``PROMPTS["ping"].build({"nonce": "a1b2c3"})``) rebuilds exactly
the run that a cassette recorded::

    run = PROMPTS["math"].build()            # fresh numbers
    run.messages                             # what to send
    run.check("The answer is 105.")          # True or False
    run.explain("104")                       # why it failed, or None
    PROMPTS["math"].build(run.params)        # the same run again
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from providers.base import AsyncGeneratorProvider
from providers.messages import Message, Messages

Params = Mapping[str, str | int]
"""The random choices of one prompt run, enough to rebuild it (JSON-friendly)."""

CODE_WORDS = ("MANGO", "PAPAYA", "LYCHEE", "GUAVA", "QUINCE", "DURIAN", "LOQUAT", "SALAK")


@dataclass(frozen=True)
class PromptRun:
    """One prompt instance: the messages to send and the check their answer must pass."""

    definition: Prompt = field(repr=False)
    messages: Messages
    params: Params

    @property
    def prompt(self) -> str:
        """The prompt's id (``ping``, ``math``, ...)."""
        return self.definition.id

    @property
    def expectation(self) -> str:
        """What a passing answer contains, in words."""
        return self.definition.expectation(self.params)

    def check(self, text: str) -> bool:
        """True when ``text`` answers this run correctly. Pure."""
        return self.definition.test(text, self.params)

    def explain(self, text: str) -> str | None:
        """``None`` when ``text`` passes, else a short reason naming what was expected."""
        if self.check(text):
            return None
        return f"expected {self.expectation}"


@dataclass(frozen=True)
class Prompt:
    """A canned prompt: parameters, messages, check and applicability, as data."""

    id: str
    description: str
    draw: Callable[[random.Random], dict[str, str | int]]
    """Fresh parameters for one run."""
    messages: Callable[[Params], Messages]
    test: Callable[[str, Params], bool]
    expectation: Callable[[Params], str]
    applies_to: Callable[[type[AsyncGeneratorProvider]], bool] = lambda provider: True
    """Whether a provider's declared capabilities let it answer this prompt."""
    capability: str = "chat"
    """What the provider makes: a chat prompt never goes to an image or audio provider."""
    keys: tuple[str, ...] = ()
    """The parameter names a replayed run must supply."""

    def build(self, source: random.Random | Params | None = None) -> PromptRun:
        """A run from fresh randomness (``None`` or a ``random.Random``) or from the
        recorded parameters of an earlier run (a mapping)."""
        if source is None or isinstance(source, random.Random):
            params: Params = self.draw(source or random.SystemRandom())
        else:
            missing = [key for key in self.keys if key not in source]
            if missing:
                raise ValueError(f"prompt {self.id!r} needs parameters {missing}")
            params = {key: source[key] for key in self.keys}
        frozen = MappingProxyType(dict(params))
        return PromptRun(definition=self, messages=self.messages(frozen), params=frozen)


def _user(content: str) -> Message:
    return {"role": "user", "content": content}


def _contains(needle: str) -> Callable[[str, Params], bool]:
    """A test that ``text`` contains the parameter ``needle``, in any letter case."""
    return lambda text, p: str(p[needle]).casefold() in text.casefold()


def _code_word(rng: random.Random) -> str:
    return f"{rng.choice(CODE_WORDS)}-{rng.randrange(10_000):04d}"


def _has_number(text: str, p: Params) -> bool:
    total = int(p["a"]) + int(p["b"])
    # A standalone number: not part of a longer number, a decimal, or a negative.
    return re.search(rf"(?<![\w.\-]){total}\b(?!\.\d)", text) is not None


_ALL: tuple[Prompt, ...] = (
    Prompt(
        id="ping",
        description="echo a per-run nonce",
        draw=lambda rng: {"nonce": f"{rng.getrandbits(24):06x}"},
        messages=lambda p: [_user(f"Reply with exactly: PONG-{p['nonce']}")],
        test=lambda text, p: f"pong-{p['nonce']}".casefold() in text.casefold(),
        expectation=lambda p: f"'PONG-{p['nonce']}' (any case)",
        keys=("nonce",),
    ),
    Prompt(
        id="math",
        description="add two random two-digit numbers",
        draw=lambda rng: {"a": rng.randint(10, 99), "b": rng.randint(10, 99)},
        messages=lambda p: [_user(f"What is {p['a']} + {p['b']}? Reply with the number only.")],
        test=_has_number,
        expectation=lambda p: f"the number {int(p['a']) + int(p['b'])}",
        keys=("a", "b"),
    ),
    Prompt(
        id="system",
        description="obey a system message over the user's question",
        draw=lambda rng: {"word": _code_word(rng)},
        messages=lambda p: [
            {
                "role": "system",
                "content": "You are a code-word machine. Whatever the user writes, "
                f"reply with exactly: {p['word']}",
            },
            _user("Tell me about the weather."),
        ],
        test=_contains("word"),
        expectation=lambda p: f"the code word {p['word']!r} from the system message",
        applies_to=lambda provider: provider.supports_system_message,
        keys=("word",),
    ),
    Prompt(
        id="history",
        description="recall a code word from an earlier turn",
        draw=lambda rng: {"word": _code_word(rng)},
        messages=lambda p: [
            _user(f"Remember this code word: {p['word']}. Just say OK."),
            {"role": "assistant", "content": "OK."},
            _user("What was the code word I asked you to remember? Reply with the code word only."),
        ],
        test=_contains("word"),
        expectation=lambda p: f"the code word {p['word']!r} from the first turn",
        applies_to=lambda provider: provider.supports_message_history,
        keys=("word",),
    ),
)

_MEDIA_LINK = re.compile(r"(?P<bang>!?)\[(?P<alt>[^\[\]\n]*)\]\(\s*(?P<target>[^)\s][^)]*)\)")
_AUDIO_FILE = re.compile(r"\.(?:mp3|wav|ogg|oga|opus|m4a|aac|flac|webm)(?:[?#]|$)", re.IGNORECASE)
_SUBJECTS = ("red apple", "blue bicycle", "green teapot", "yellow umbrella", "white lighthouse")


def _has_image(text: str, p: Params) -> bool:
    """A Markdown image (``![...](URL or data)``): what gpt4free's image results render as."""
    return any(m["bang"] for m in _MEDIA_LINK.finditer(text))


def _has_audio(text: str, p: Params) -> bool:
    """A link to audio: ``[audio](...)``, a ``data:audio`` URI or an audio file's URL."""
    for match in _MEDIA_LINK.finditer(text):
        target = match["target"].strip()
        if match["alt"] == "audio" or target.startswith("data:audio"):
            return True
        if _AUDIO_FILE.search(target):
            return True
    return False


_ALL += (
    Prompt(
        id="image",
        description="draw a picture (image providers' basic check)",
        draw=lambda rng: {"subject": rng.choice(_SUBJECTS)},
        messages=lambda p: [_user(f"A photo of a {p['subject']} on a plain background.")],
        test=_has_image,
        expectation=lambda p: "an image (a URL or image data)",
        capability="image",
        keys=("subject",),
    ),
    Prompt(
        id="audio",
        description="speak a code word (audio providers' basic check)",
        draw=lambda rng: {"word": _code_word(rng)},
        messages=lambda p: [_user(f"The code word is {p['word']}.")],
        test=_has_audio,
        expectation=lambda p: "audio (a URL or audio data)",
        capability="audio",
        keys=("word",),
    ),
)
"""Media providers are checked for making media at all; what the picture shows or the
voice says is beyond a text check."""

PROMPTS: Mapping[str, Prompt] = MappingProxyType({p.id: p for p in _ALL})
"""Every canned prompt, by id, in a stable order (``ping`` first)."""


BASIC = "ping"
"""The basic check: a chat provider's ``ping``, a media provider's own prompt."""


def applicable(provider: type[AsyncGeneratorProvider]) -> list[str]:
    """The ids of the prompts ``provider``'s capabilities allow, in registry order."""
    return [
        p.id
        for p in PROMPTS.values()
        if p.capability == provider.capability and p.applies_to(provider)
    ]


def chosen_for(provider: type[AsyncGeneratorProvider], chosen: Sequence[str]) -> list[str]:
    """The prompts of ``chosen`` that ``provider`` can answer, in the order given; for a
    media provider :data:`BASIC` stands for its own prompt (``image``, ``audio``)."""
    allowed = applicable(provider)
    picked = [p for p in chosen if p in allowed]
    if BASIC in chosen and provider.capability != PROMPTS[BASIC].capability:
        picked.extend(p for p in allowed if p not in picked)
    return picked
