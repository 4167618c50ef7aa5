"""Running a model: one service per operation, shared by the REST API, the OpenAI-compatible API,
the playgrounds and the arena. Each checks that the model's pipeline fits the operation, builds
the engine's validated parameters, and calls the engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from training_runner.engine.errors import EngineError
from training_runner.engine.params import GenerateParams, check_text, check_texts, check_top_k, sampling_from_dict
from training_runner.inference.choices import Pipeline
from training_runner.inference.engine import engine_call, engine_stream
from training_runner.inference.errors import UnsupportedPipeline, hub_error
from training_runner.inference.selectors import InferenceTarget

OPERATIONS = {
    Pipeline.TEXT_GENERATION: "generate",
    Pipeline.FILL_MASK: "fill-mask",
    Pipeline.TEXT_CLASSIFICATION: "classify",
    Pipeline.SENTENCE_SIMILARITY: "embed",
    Pipeline.FEATURE_EXTRACTION: "embed",
}


def _require(target: InferenceTarget, *pipelines: Pipeline) -> None:
    if target.pipeline not in pipelines:
        raise UnsupportedPipeline(
            f"{target.repo.repo_id} is a {target.pipeline.value} model: use its '{OPERATIONS[target.pipeline]}' "
            "operation.",
            fields={"model": [f"pipeline '{target.pipeline.value}' cannot do this"]},
        )


def generate_params(
    *, prompt: str | None = None, messages: list | None = None, sampling: dict[str, Any]
) -> GenerateParams:
    """Validated generation parameters (the engine's own rules), as a hub 400 when they are not."""
    try:
        return GenerateParams(prompt=prompt, messages=messages, sampling=sampling_from_dict(sampling))
    except EngineError as error:
        raise hub_error(error) from None


def _body(target: InferenceTarget, params: GenerateParams) -> dict:
    return {
        "model": target.key,
        "prompt": params.prompt,
        "messages": params.messages,
        "sampling": params.sampling.as_dict(),
    }


def completion_create(*, target: InferenceTarget, params: GenerateParams) -> dict:
    """The whole completion: ``{"text", "finish_reason", "usage"}``."""
    _require(target, Pipeline.TEXT_GENERATION)
    return engine_call("/generate", _body(target, params))


def completion_stream(*, target: InferenceTarget, params: GenerateParams) -> Iterator[dict]:
    """Events of a completion: ``{"type": "text", "text"}`` deltas, then the ``end`` event."""
    _require(target, Pipeline.TEXT_GENERATION)
    return engine_stream("/generate", _body(target, params))


def _validated(check, *args):
    try:
        return check(*args)
    except EngineError as error:
        raise hub_error(error) from None


def fill_mask(*, target: InferenceTarget, text: str, top_k: int = 5) -> list[list[dict]]:
    _require(target, Pipeline.FILL_MASK)
    body = {
        "model": target.key,
        "inputs": _validated(check_text, "inputs", text),
        "top_k": _validated(check_top_k, top_k),
    }
    return engine_call("/fill-mask", body)["predictions"]


def classify(*, target: InferenceTarget, texts: list[str]) -> list[list[dict]]:
    _require(target, Pipeline.TEXT_CLASSIFICATION)
    return engine_call("/classify", {"model": target.key, "inputs": _validated(check_texts, "inputs", texts)})["labels"]


def embed(*, target: InferenceTarget, texts: list[str]) -> list[list[float]]:
    _require(target, Pipeline.SENTENCE_SIMILARITY, Pipeline.FEATURE_EXTRACTION)
    body = {"model": target.key, "inputs": _validated(check_texts, "inputs", texts)}
    return engine_call("/embed", body)["embeddings"]


def similarity(*, target: InferenceTarget, source: str, sentences: list[str]) -> list[float]:
    _require(target, Pipeline.SENTENCE_SIMILARITY, Pipeline.FEATURE_EXTRACTION)
    body = {
        "model": target.key,
        "source": _validated(check_text, "source", source),
        "sentences": _validated(check_texts, "sentences", sentences),
    }
    return engine_call("/similarity", body)["scores"]
