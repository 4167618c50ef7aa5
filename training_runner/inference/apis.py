"""REST API of inference (``/api/v1/models/{ns}/{name}/generate|fill-mask|classify|embed``) and of
the arena (``/api/v1/arena/battles…``): parse → one service → serialize. Access, pipeline and
validation rules live in the services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import PayloadTooLarge, ValidationError
from common.streaming import IteratorStreamingResponse
from hub.scopes import reads_over_post
from training_runner.inference.selectors import InferenceTarget, inference_target
from training_runner.inference.services import arena, completions
from training_runner.inference.streams import ndjson_response, started
from training_runner.inference.throttling import INFERENCE_THROTTLES

MAX_BODY_BYTES = 1024 * 1024


def documented(summary: str, *, status: int = 200):
    """OpenAPI entry of a JSON-in, JSON-out operation whose fields the docstring describes (the
    limits live in ``training_runner.engine.params``, not in a serializer that could drift)."""
    return extend_schema(
        summary=summary, request=OpenApiTypes.OBJECT, responses={status: OpenApiTypes.OBJECT}, tags=["inference"]
    )


def json_body(request: Request) -> dict:
    """The JSON object body, refused (413) before it is read when it is over ``MAX_BODY_BYTES``."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is {length} bytes; the limit is {MAX_BODY_BYTES}.")
    data = request.data
    if not isinstance(data, dict):
        raise ValidationError("The request body must be a JSON object.")
    return dict(data)


@reads_over_post
class InferenceApi(APIView):
    """Who may run a model is decided by ``inference_target`` (public models: anyone). Running a
    model reads it, so read tokens may call these POSTs (hub/scopes.py); the arena writes votes."""

    permission_classes = [AllowAny]
    throttle_classes = INFERENCE_THROTTLES

    def target(self, request: Request, namespace: str, name: str, body: dict) -> InferenceTarget:
        return inference_target(user=request.user, namespace=namespace, name=name, revision=body.pop("revision", None))

    @staticmethod
    def answer(target: InferenceTarget, **result) -> Response:
        return Response({"model": target.repo.repo_id, "commit": target.commit_oid, **result})


class GenerateApi(InferenceApi):
    @documented("Generate text (prompt or chat messages; stream=true for NDJSON events)")
    def post(self, request: Request, namespace: str, name: str):
        """Generate text: ``prompt`` or ``messages``, sampling parameters, ``stream`` (NDJSON)."""
        body = json_body(request)
        target = self.target(request, namespace, name, body)
        stream = bool(body.pop("stream", False))
        params = completions.generate_params(
            prompt=body.pop("prompt", None), messages=body.pop("messages", None), sampling=body
        )
        if stream:
            return ndjson_response(started(completions.completion_stream(target=target, params=params)))
        return self.answer(target, **completions.completion_create(target=target, params=params))


class FillMaskApi(InferenceApi):
    @documented("Fill the mask token of a text")
    def post(self, request: Request, namespace: str, name: str):
        body = json_body(request)
        target = self.target(request, namespace, name, body)
        predictions = completions.fill_mask(target=target, text=body.get("inputs"), top_k=body.get("top_k", 5))
        return self.answer(target, predictions=predictions)


class ClassifyApi(InferenceApi):
    @documented("Label probabilities of texts")
    def post(self, request: Request, namespace: str, name: str):
        body = json_body(request)
        target = self.target(request, namespace, name, body)
        return self.answer(target, labels=completions.classify(target=target, texts=body.get("inputs")))


class EmbedApi(InferenceApi):
    @documented("Sentence embeddings, or similarities to a source sentence")
    def post(self, request: Request, namespace: str, name: str):
        """Sentence embeddings of ``inputs``; with ``source`` and ``sentences``, their similarities."""
        body = json_body(request)
        target = self.target(request, namespace, name, body)
        if "source" in body:
            scores = completions.similarity(target=target, source=body.get("source"), sentences=body.get("sentences"))
            return self.answer(target, scores=scores)
        return self.answer(target, embeddings=completions.embed(target=target, texts=body.get("inputs")))


# --------------------------------------------------------------------------------------- arena


class ArenaApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = INFERENCE_THROTTLES


class BattleCreateApi(ArenaApi):
    @documented("Start an arena battle", status=201)
    def post(self, request: Request):
        """Start a battle: two anonymous models will answer ``prompt``."""
        battle = arena.battle_create(user=request.user, prompt=json_body(request).get("prompt"))
        return Response({"battle": str(battle.pk)}, status=201)


class BattleAnswerApi(ArenaApi):
    @documented("Stream one side's answer of a battle (plain text)")
    def post(self, request: Request, battle_id, side: str):
        """One side's answer as plain text, streamed as it is generated."""
        chunks = arena.battle_answer_stream(user=request.user, battle_id=battle_id, side=side)
        response = IteratorStreamingResponse(_first_pulled(chunks), content_type="text/plain; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


def _first_pulled(chunks):
    """Errors before the first chunk are HTTP errors; an answer may be empty."""
    first = next(chunks, "")

    def chained():
        try:
            yield first
            yield from chunks
        finally:
            chunks.close()

    return chained()


class VoteApi(ArenaApi):
    @documented("Vote on a battle and reveal its models", status=201)
    def post(self, request: Request, battle_id):
        """Vote once (a, b, tie or both_bad); the answer reveals the two models."""
        vote = arena.vote_cast(user=request.user, battle_id=battle_id, outcome=json_body(request).get("outcome"))
        battle = vote.battle
        return Response(
            {
                "outcome": vote.outcome,
                "counted": vote.counted,
                "model_a": battle.model_a.repo_id,
                "model_b": battle.model_b.repo_id,
            },
            status=201,
        )
