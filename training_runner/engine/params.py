"""Request parameters of the engine's operations, validated in one place.

The hub validates a request by building these dataclasses before it calls the engine, and the
engine builds them again from the JSON it receives: the limits below are the only ones.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidRequest, RequestTooLarge

MAX_NEW_TOKENS = 1024
MAX_PROMPT_CHARS = 32_000
MAX_STOP_STRINGS = 4
MAX_STOP_CHARS = 64
MAX_BEAMS = 8
MAX_INPUTS = 32  # texts per classify / embed / similarity request
MAX_TOP_K_PREDICTIONS = 50
MAX_SEED = 2**63 - 1


def _number(name: str, value: Any, *, low: float, high: float, integer: bool = False, low_open: bool = False):
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidRequest(f"{name} must be {'an integer' if integer else 'a number'}", field=name)
    if value < low or value > high or (low_open and value == low):
        bound = f"({low}, {high}]" if low_open else f"[{low}, {high}]"
        raise InvalidRequest(f"{name} must be in {bound}; got {value}", field=name)
    return value if integer else float(value)


def check_text(name: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string", field=name)
    if not value.strip() and not allow_empty:
        raise InvalidRequest(f"{name} must not be empty", field=name)
    if "\x00" in value:
        raise InvalidRequest(f"{name} must not contain NUL characters", field=name)
    if len(value) > MAX_PROMPT_CHARS:
        raise RequestTooLarge(f"{name} is {len(value)} characters; the limit is {MAX_PROMPT_CHARS}", field=name)
    return value


def check_texts(name: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidRequest(f"{name} must be a non-empty list of strings", field=name)
    if len(value) > MAX_INPUTS:
        raise RequestTooLarge(f"{name} holds {len(value)} texts; the limit is {MAX_INPUTS}", field=name)
    return [check_text(name, item) for item in value]


@dataclass
class Sampling:
    """How to choose tokens: greedy (temperature 0), sampling, or beam search (num_beams > 1)."""

    max_new_tokens: int = 64
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float = 1.0
    seed: int | None = None
    num_beams: int = 1
    length_penalty: float = 1.0
    stop: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.max_new_tokens = _number("max_new_tokens", self.max_new_tokens, low=1, high=MAX_NEW_TOKENS, integer=True)
        self.temperature = _number("temperature", self.temperature, low=0.0, high=5.0)
        if self.top_k is not None:
            self.top_k = _number("top_k", self.top_k, low=0, high=100_000, integer=True) or None
        if self.top_p is not None:
            self.top_p = _number("top_p", self.top_p, low=0.0, high=1.0, low_open=True)
        self.repetition_penalty = _number(
            "repetition_penalty", self.repetition_penalty, low=0.0, high=10.0, low_open=True
        )
        if self.seed is not None:
            self.seed = _number("seed", self.seed, low=0, high=MAX_SEED, integer=True)
        self.num_beams = _number("num_beams", self.num_beams, low=1, high=MAX_BEAMS, integer=True)
        self.length_penalty = _number("length_penalty", self.length_penalty, low=-10.0, high=10.0)
        if self.num_beams > 1 and self.temperature > 0 and (self.top_k or self.top_p):
            raise InvalidRequest("beam search is deterministic: leave top_k and top_p unset", field="num_beams")
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
            raise InvalidRequest("stop must be a string or a list of non-empty strings", field="stop")
        if len(stop) > MAX_STOP_STRINGS or any(len(s) > MAX_STOP_CHARS for s in stop):
            raise InvalidRequest(
                f"stop takes at most {MAX_STOP_STRINGS} strings of at most {MAX_STOP_CHARS} characters", field="stop"
            )
        self.stop = list(stop)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _messages(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("messages must be a non-empty list", field="messages")
    out = []
    for message in value:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidRequest("each message needs a role and a content string", field="messages")
        content = message.get("content")
        if not isinstance(content, str):
            raise InvalidRequest("each message's content must be a string", field="messages")
        out.append({"role": message["role"], "content": content})
    if sum(len(m["content"]) for m in out) > MAX_PROMPT_CHARS:
        raise RequestTooLarge(f"the messages hold more than {MAX_PROMPT_CHARS} characters", field="messages")
    if not any(m["content"].strip() for m in out):
        raise InvalidRequest("messages must not all be empty", field="messages")
    return out


@dataclass
class GenerateParams:
    """A completion: a ``prompt``, or chat ``messages`` rendered with the model's chat template."""

    prompt: str | None = None
    messages: list[dict[str, str]] | None = None
    sampling: Sampling = field(default_factory=Sampling)

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise InvalidRequest("give exactly one of prompt and messages", field="prompt")
        if self.prompt is not None:
            self.prompt = check_text("prompt", self.prompt)
        else:
            self.messages = _messages(self.messages)
        if isinstance(self.sampling, dict):
            self.sampling = sampling_from_dict(self.sampling)

    def as_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "messages": self.messages, "sampling": self.sampling.as_dict()}


def sampling_from_dict(data: Any) -> Sampling:
    if not isinstance(data, dict):
        raise InvalidRequest("sampling must be an object", field="sampling")
    unknown = set(data) - set(Sampling.__dataclass_fields__)
    if unknown:
        raise InvalidRequest(f"unknown sampling parameters: {', '.join(sorted(unknown))}", field="sampling")
    return Sampling(**data)


def check_top_k(value: Any) -> int:
    return _number("top_k", value, low=1, high=MAX_TOP_K_PREDICTIONS, integer=True)
