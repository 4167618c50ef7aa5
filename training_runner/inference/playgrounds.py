"""The Gradio playgrounds: one Blocks per pipeline, the model taken from the URL path.

``asgi.py`` mounts each Blocks under ``/playground/<pipeline>/<namespace>/<name>/`` and puts the
model id in ``request.state`` (server-set, never client input). Every callback looks the caller
and the model up again and runs the same services as the APIs, so access rules are the same.
No ``js=`` handler anywhere: the playground documents' policy allows no ``'unsafe-eval'``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import close_old_connections

from common.errors import HubError
from training_runner.inference.choices import Pipeline
from training_runner.inference.selectors import InferenceTarget, inference_target
from training_runner.inference.services import completions

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no version check, no telemetry (GRADIO.md)

import gradio as gr

ANONYMOUS = "anonymous"


def _target(request: gr.Request) -> InferenceTarget:
    namespace, name = request.state.model_id.split("/")
    username = request.username
    user = AnonymousUser() if username in (None, ANONYMOUS) else get_user_model().objects.get(username=username)
    return inference_target(user=user, namespace=namespace, name=name)


def _guarded(function: Callable) -> Callable:
    """Run a callback with fresh database connections; hub errors become Gradio errors shown in the UI.

    ``functools.wraps`` keeps the callback's signature visible: Gradio passes ``gr.Request`` by it.
    """

    @functools.wraps(function)
    def run(*args, **kwargs):
        close_old_connections()
        try:
            result = function(*args, **kwargs)
            if isinstance(result, Iterator):
                yield from result
            else:
                yield result
        except HubError as error:
            raise gr.Error(error.message) from None
        finally:
            close_old_connections()

    return run


def _header(request: gr.Request) -> str:
    return f"**{request.state.model_id}**"


def text_generation_blocks() -> gr.Blocks:
    def generate(prompt, max_new_tokens, temperature, top_k, top_p, repetition_penalty, seed, request: gr.Request):
        """Stream the completion of ``prompt``: yields the text so far after every token."""
        sampling = {
            "max_new_tokens": int(max_new_tokens), "temperature": float(temperature), "top_k": int(top_k) or None,
            "top_p": float(top_p), "repetition_penalty": float(repetition_penalty),
            "seed": int(seed) if seed not in (None, "") and int(seed) >= 0 else None,
        }  # fmt: skip
        target = _target(request)
        params = completions.generate_params(prompt=prompt, sampling=sampling)
        text = ""
        for event in completions.completion_stream(target=target, params=params):
            if event["type"] == "text":
                text += event["text"]
                yield text

    with gr.Blocks(title="Text generation", analytics_enabled=False) as blocks:
        header = gr.Markdown()
        prompt = gr.Textbox(label="Prompt", lines=4, elem_id="prompt")
        with gr.Row():
            run = gr.Button("Generate", variant="primary", elem_id="generate")
            stop = gr.Button("Stop")
        output = gr.Textbox(label="Output", lines=8, elem_id="output")
        with gr.Accordion("Sampling", open=False):
            max_new = gr.Slider(1, 512, value=64, step=1, label="Max new tokens")
            temperature = gr.Slider(0.0, 2.0, value=0.7, step=0.05, label="Temperature (0: greedy)")
            top_k = gr.Slider(0, 200, value=0, step=1, label="Top-k (0: off)")
            top_p = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label="Top-p")
            penalty = gr.Slider(0.5, 2.0, value=1.0, step=0.05, label="Repetition penalty")
            seed = gr.Number(value=-1, precision=0, label="Seed (-1: random)")
        event = run.click(
            _guarded(generate), [prompt, max_new, temperature, top_k, top_p, penalty, seed], output, api_name="generate"
        )
        stop.click(None, None, None, cancels=[event])
        blocks.load(_header, None, header)
    return blocks


def fill_mask_blocks() -> gr.Blocks:
    def fill(text, top_k, request: gr.Request):
        """The most likely fillers of the first mask token, with their probabilities."""
        predictions = completions.fill_mask(target=_target(request), text=text, top_k=int(top_k))
        return {p["token_str"] or repr(p["token_str"]): p["score"] for p in predictions[0]}

    with gr.Blocks(title="Fill mask", analytics_enabled=False) as blocks:
        header = gr.Markdown()
        text = gr.Textbox(label="Text with a mask token", lines=3, elem_id="text")
        top_k = gr.Slider(1, 20, value=5, step=1, label="Predictions")
        run = gr.Button("Fill", variant="primary")
        output = gr.Label(num_top_classes=20, label="Fillers")
        run.click(_guarded(fill), [text, top_k], output, api_name="fill_mask")
        blocks.load(_header, None, header)
    return blocks


def classification_blocks() -> gr.Blocks:
    def classify(text, request: gr.Request):
        """Label probabilities of ``text``."""
        [labels] = completions.classify(target=_target(request), texts=[text])
        return {row["label"]: row["score"] for row in labels}

    with gr.Blocks(title="Text classification", analytics_enabled=False) as blocks:
        header = gr.Markdown()
        text = gr.Textbox(label="Text", lines=3)
        run = gr.Button("Classify", variant="primary")
        output = gr.Label(label="Labels")
        run.click(_guarded(classify), text, output, api_name="classify")
        blocks.load(_header, None, header)
    return blocks


def similarity_blocks() -> gr.Blocks:
    def compare(source, sentences, request: gr.Request):
        """Cosine similarity of the source sentence to each other sentence (one per line)."""
        others = [line for line in sentences.splitlines() if line.strip()]
        scores = completions.similarity(target=_target(request), source=source, sentences=others)
        return {sentence: score for sentence, score in zip(others, scores, strict=True)}

    with gr.Blocks(title="Sentence similarity", analytics_enabled=False) as blocks:
        header = gr.Markdown()
        source = gr.Textbox(label="Source sentence")
        sentences = gr.Textbox(label="Sentences to compare (one per line)", lines=4)
        run = gr.Button("Compare", variant="primary")
        output = gr.Label(label="Similarity")
        run.click(_guarded(compare), [source, sentences], output, api_name="similarity")
        blocks.load(_header, None, header)
    return blocks


BUILDERS: dict[str, Callable[[], gr.Blocks]] = {
    Pipeline.TEXT_GENERATION: text_generation_blocks,
    Pipeline.FILL_MASK: fill_mask_blocks,
    Pipeline.TEXT_CLASSIFICATION: classification_blocks,
    Pipeline.SENTENCE_SIMILARITY: similarity_blocks,
    Pipeline.FEATURE_EXTRACTION: similarity_blocks,
}
