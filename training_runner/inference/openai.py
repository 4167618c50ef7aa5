"""The OpenAI-compatible face (``/v1/completions``, ``/v1/chat/completions``, ``/v1/models``), so
the stock ``openai`` client works with ``base_url=<hub>/v1`` and the api key set to a hub token.

``model`` is a repository id (``namespace/name``, or ``namespace/name@revision``). Parameters map
onto the engine's: ``max_tokens`` (or ``max_completion_tokens``), ``temperature``, ``top_p``,
``stop``, ``seed``, and the common extensions ``top_k``, ``repetition_penalty`` and
``num_beams``. ``n`` other than 1, ``logprobs``, ``echo`` and non-zero presence or frequency
penalties are refused with a 400 rather than silently ignored.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import ValidationError
from hub.scopes import reads_over_post
from training_runner.inference.apis import json_body
from training_runner.inference.choices import Pipeline
from training_runner.inference.selectors import InferenceTarget, inference_models, inference_target
from training_runner.inference.services import completions
from training_runner.inference.streams import sse_response, started
from training_runner.inference.throttling import INFERENCE_THROTTLES

IGNORED = ("user", "stream_options", "logit_bias", "service_tier", "metadata", "store", "suffix")
PASSED = {"temperature": "temperature", "top_p": "top_p", "stop": "stop", "seed": "seed", "top_k": "top_k",
          "repetition_penalty": "repetition_penalty", "num_beams": "num_beams"}  # fmt: skip


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: [message]})


def _sampling(body: dict, *, default_max_tokens: int) -> dict:
    """The engine's sampling parameters from an OpenAI request body (what remains of it)."""
    if body.get("n", 1) not in (1, None):
        raise _refuse("n", "Only n=1 is supported.")
    if body.get("logprobs") or body.get("top_logprobs") or body.get("echo"):
        raise _refuse("logprobs", "logprobs and echo are not supported.")
    for penalty in ("presence_penalty", "frequency_penalty"):
        if body.get(penalty):
            raise _refuse(penalty, f"{penalty} is not supported; use repetition_penalty.")
    sampling = {"max_new_tokens": body.get("max_completion_tokens") or body.get("max_tokens") or default_max_tokens}
    for theirs, ours in PASSED.items():
        if body.get(theirs) is not None:
            sampling[ours] = body[theirs]
    known = {*PASSED, *IGNORED, "model", "prompt", "messages", "stream", "n", "logprobs", "top_logprobs", "echo",
             "presence_penalty", "frequency_penalty", "max_tokens", "max_completion_tokens"}  # fmt: skip
    unknown = sorted(set(body) - known)
    if unknown:
        raise _refuse(unknown[0], f"Unknown parameter: {unknown[0]}.")
    return sampling


def _target(request: Request, body: dict) -> InferenceTarget:
    model = body.get("model")
    if not isinstance(model, str) or model.count("/") != 1:
        raise _refuse("model", "model must be a repository id: namespace/name (optionally @revision).")
    repo_id, _, revision = model.partition("@")
    namespace, name = repo_id.split("/")
    return inference_target(user=request.user, namespace=namespace, name=name, revision=revision or None)


# The OpenAI-compatible face follows OpenAI's own API reference, not the hub's REST schema.
# Completions only read the model, so read tokens may call them (hub/scopes.py).
@reads_over_post
@extend_schema(exclude=True)
class OpenAIApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = INFERENCE_THROTTLES

    def create(self, request: Request, *, chat: bool):
        body = json_body(request)
        target = _target(request, body)
        if chat:
            prompt, messages = None, body.get("messages")
            if messages is None:
                raise _refuse("messages", "messages is required.")
        else:
            prompt, messages = body.get("prompt"), None
            if isinstance(prompt, list) and len(prompt) == 1:
                prompt = prompt[0]
        sampling = _sampling(body, default_max_tokens=256 if chat else 16)
        params = completions.generate_params(prompt=prompt, messages=messages, sampling=sampling)
        ident = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        head = {"id": ident, "created": int(time.time()), "model": target.repo.repo_id}
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            events = started(completions.completion_stream(target=target, params=params))
            return sse_response(_chunks(events, head, chat=chat, include_usage=include_usage))
        result = completions.completion_create(target=target, params=params)
        if chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": result["text"]}, "logprobs": None}
        else:
            choice = {"index": 0, "text": result["text"], "logprobs": None}
        choice["finish_reason"] = result["finish_reason"]
        kind = "chat.completion" if chat else "text_completion"
        return Response({**head, "object": kind, "choices": [choice], "usage": result["usage"]})


def _chunks(events: Iterator[dict], head: dict, *, chat: bool, include_usage: bool) -> Iterator[dict]:
    kind = "chat.completion.chunk" if chat else "text_completion"

    def chunk(text: str | None, finish: str | None, *, role: bool = False) -> dict:
        if chat:
            delta = {"role": "assistant", "content": ""} if role else ({"content": text} if text is not None else {})
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
        return {**head, "object": kind, "choices": [choice]}

    if chat:
        yield chunk(None, None, role=True)
    for event in events:
        if event["type"] == "text":
            yield chunk(event["text"], None)
        elif event["type"] == "end":
            yield chunk(None, event["finish_reason"])
            if include_usage:
                yield {**head, "object": kind, "choices": [], "usage": event["usage"]}


class CompletionsApi(OpenAIApi):
    def post(self, request: Request):
        return self.create(request, chat=False)


class ChatCompletionsApi(OpenAIApi):
    def post(self, request: Request):
        return self.create(request, chat=True)


@extend_schema(exclude=True)
class ModelsApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = INFERENCE_THROTTLES

    def get(self, request: Request):
        """Text-generation models the caller can see whose inference is on."""
        repos = inference_models(user=request.user, pipeline=Pipeline.TEXT_GENERATION)
        data = [
            {
                "id": repo.repo_id,
                "object": "model",
                "created": int(repo.created_at.timestamp()),
                "owned_by": repo.namespace.name,
            }
            for repo in repos
        ]
        return Response({"object": "list", "data": data})
