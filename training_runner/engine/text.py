"""The engine's operations on a loaded model: text generation (streamed, with stop strings, or by
beam search), fill-mask, classification, sentence embeddings and similarity.

Generation yields events, the units the server streams:
``{"type": "text", "text": delta}`` as text becomes final, then one
``{"type": "end", "text": whole, "finish_reason": "stop" | "length", "usage": {...}}``.
A delta is held back while it could still be the start of a stop string or ends in half a UTF-8
character, so no client ever sees text that is later taken back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
import torch.nn.functional as F

from training_runner.core.beam_search import beam_search
from training_runner.core.generate import generate

from .errors import InvalidRequest, NoChatTemplate, UnsupportedModel
from .loaded import FEATURE_EXTRACTION, FILL_MASK, TEXT_CLASSIFICATION, TEXT_GENERATION, LoadedModel
from .params import GenerateParams, Sampling

REPLACEMENT = "\ufffd"  # what a decoder shows for an incomplete UTF-8 sequence


def prompt_ids(loaded: LoadedModel, params: GenerateParams) -> list[int]:
    """Token ids of the prompt; chat messages go through the tokenizer's chat template."""
    tokenizer = loaded.tokenizer
    if params.messages is not None:
        if tokenizer.chat_template is None:
            raise NoChatTemplate(
                "this model has no chat template (its tokenizer_config.json has no chat_template): use a plain prompt",
                field="messages",
            )
        try:
            text = tokenizer.apply_chat_template(params.messages, add_generation_prompt=True)
        except Exception as exc:  # a template may raise anything (jinja errors, raise_exception)
            raise InvalidRequest(f"the chat template refused the messages: {exc}", field="messages") from None
        ids = tokenizer.encode(text, add_special_tokens=False)
    else:
        ids = tokenizer.encode(params.prompt, add_special_tokens=True)
    if not ids:
        raise InvalidRequest("the prompt encodes to no tokens", field="prompt")
    if len(ids) >= loaded.context_length:
        raise InvalidRequest(
            f"the prompt is {len(ids)} tokens; this model reads at most {loaded.context_length - 1} before it "
            "must generate",
            field="prompt",
        )
    return ids


class StopFinder:
    """Cuts generated text at the first stop string and says how much of it is safe to show."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = stops

    def cut(self, text: str) -> int | None:
        """Index where the earliest stop string starts, or None."""
        found = [i for i in (text.find(stop) for stop in self.stops) if i >= 0]
        return min(found) if found else None

    def safe_end(self, text: str) -> int:
        """Length of the prefix of ``text`` that no stop string can still claim."""
        end = len(text)
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:size]):
                    end = min(end, len(text) - size)
                    break
        while end > 0 and text[end - 1] == REPLACEMENT:
            end -= 1
        return end


def _generator(sampling: Sampling, device: torch.device) -> torch.Generator | None:
    if sampling.greedy:
        return None
    seed = sampling.seed if sampling.seed is not None else int.from_bytes(os.urandom(8), "little") >> 1
    return torch.Generator(device=device).manual_seed(seed)


def generate_events(loaded: LoadedModel, params: GenerateParams) -> Iterator[dict]:
    """Events of one generation (see the module docstring)."""
    loaded.require(TEXT_GENERATION)
    ids = prompt_ids(loaded, params)
    sampling = params.sampling
    stops = StopFinder(sampling.stop)
    if sampling.num_beams > 1:
        yield from _beam_events(loaded, ids, sampling, stops)
        return
    device = loaded.model.embed_tokens.weight.device
    steps = generate(
        loaded.model, ids, max_new_tokens=sampling.max_new_tokens, temperature=sampling.temperature,
        top_k=sampling.top_k, top_p=sampling.top_p, repetition_penalty=sampling.repetition_penalty,
        eos_token_id=loaded.eos_ids, generator=_generator(sampling, device), stream=True,
    )  # fmt: skip
    new: list[int] = []
    shown, finish, text, generated = 0, "length", "", 0
    for step in steps:
        token = int(step[0])
        generated += 1
        if token in loaded.eos_ids:
            finish = "stop"
            break
        new.append(token)
        text = loaded.tokenizer.decode(new, skip_special_tokens=True)
        cut = stops.cut(text)
        if cut is not None:
            text, finish = text[:cut], "stop"
            break
        end = stops.safe_end(text)
        if end > shown:
            yield {"type": "text", "text": text[shown:end]}
            shown = end
    steps.close()
    if len(text) > shown:
        yield {"type": "text", "text": text[shown:]}
    yield _end(text, finish, prompt_tokens=len(ids), completion_tokens=generated)


def _beam_events(loaded: LoadedModel, ids: list[int], sampling: Sampling, stops: StopFinder) -> Iterator[dict]:
    [best] = beam_search(
        loaded.model, ids, num_beams=sampling.num_beams, max_new_tokens=sampling.max_new_tokens,
        eos_token_id=loaded.eos_ids, length_penalty=sampling.length_penalty,
        repetition_penalty=sampling.repetition_penalty,
    )  # fmt: skip
    tokens = best.tokens
    ended = bool(tokens) and tokens[-1] in loaded.eos_ids
    text = loaded.tokenizer.decode(tokens[:-1] if ended else tokens, skip_special_tokens=True)
    cut = stops.cut(text)
    if cut is not None:
        text = text[:cut]
    if text:
        yield {"type": "text", "text": text}
    finish = "stop" if ended or cut is not None else "length"
    yield _end(text, finish, prompt_tokens=len(ids), completion_tokens=len(tokens))


def _end(text: str, finish: str, *, prompt_tokens: int, completion_tokens: int) -> dict:
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return {"type": "end", "text": text, "finish_reason": finish, "usage": usage}


def generate_text(loaded: LoadedModel, params: GenerateParams) -> dict:
    """The whole generation at once: the ``end`` event."""
    *_, end = generate_events(loaded, params)
    return end


# ----------------------------------------------------------------------------- encoders


def _encode_batch(loaded: LoadedModel, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids (B, T) and attention mask (B, T), with the tokenizer's special tokens."""
    rows = loaded.tokenizer.encode_batch(texts, add_special_tokens=True)
    limit = loaded.context_length
    too_long = [i for i, row in enumerate(rows) if len(row) > limit]
    if too_long:
        raise InvalidRequest(f"text {too_long[0]} is longer than the model's {limit} tokens", field="inputs")
    width = max(len(row) for row in rows)
    pad = loaded.tokenizer.pad_token_id or 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    device = next(loaded.model.parameters()).device
    return ids.to(device), mask.to(device)


@torch.no_grad()
def fill_mask(loaded: LoadedModel, text: str, *, top_k: int) -> list[list[dict]]:
    """For each mask token in ``text``: the ``top_k`` fillers with their probabilities."""
    loaded.require(FILL_MASK)
    tokenizer = loaded.tokenizer
    mask_id = tokenizer.mask_token_id
    mask = tokenizer.special_tokens.get("mask")
    if mask_id is None or mask is None:
        raise UnsupportedModel("the tokenizer has no mask token")
    ids, attention = _encode_batch(loaded, [text])
    positions = (ids[0] == mask_id).nonzero().flatten().tolist()
    if not positions:
        raise InvalidRequest(f"the text must contain the mask token {mask}", field="inputs")
    probs = loaded.model(ids, attention)[0].float().softmax(dim=-1)  # (T, V)
    results = []
    for position in positions:
        scores, tokens = probs[position].topk(min(top_k, probs.shape[-1]))
        predictions = []
        for score, token in zip(scores.tolist(), tokens.tolist(), strict=True):
            filled = ids[0].clone()
            filled[position] = token
            predictions.append(
                {
                    "token": token,
                    "token_str": tokenizer.decode([token]).strip(),
                    "score": score,
                    "sequence": tokenizer.decode(filled[attention[0].bool()].tolist(), skip_special_tokens=True),
                }
            )
        results.append(predictions)
    return results


@torch.no_grad()
def classify(loaded: LoadedModel, texts: list[str]) -> list[list[dict]]:
    """Label probabilities per text, most likely first."""
    loaded.require(TEXT_CLASSIFICATION)
    ids, attention = _encode_batch(loaded, texts)
    probs = loaded.model(ids, attention).float().softmax(dim=-1)  # (B, labels)
    labels = loaded.model.config.id2label
    return [
        sorted(({"label": labels[i], "score": p} for i, p in enumerate(row)), key=lambda r: -r["score"])
        for row in probs.tolist()
    ]


@torch.no_grad()
def embed(loaded: LoadedModel, texts: list[str]) -> list[list[float]]:
    """Sentence embeddings: the mean of the last hidden states over real tokens, L2-normalised."""
    loaded.require(FEATURE_EXTRACTION)
    ids, attention = _encode_batch(loaded, texts)
    hidden = loaded.model.encode(ids, attention).float()  # (B, T, C)
    weights = attention[:, :, None].float()  # (B, T, 1)
    mean = (hidden * weights).sum(dim=1) / weights.sum(dim=1)  # (B, C)
    return F.normalize(mean, dim=-1).tolist()


def similarity(loaded: LoadedModel, source: str, sentences: list[str]) -> list[float]:
    """Cosine similarity of ``source`` to each sentence."""
    vectors = torch.tensor(embed(loaded, [source, *sentences]))
    return (vectors[1:] @ vectors[0]).tolist()
