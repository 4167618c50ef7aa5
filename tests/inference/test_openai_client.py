"""The stock ``openai`` client against the live hub (uvicorn, Django + playgrounds) and a real
engine process: completions and chat completions, streamed and not, greedy text equal to
transformers' on the same files, and the errors a client meets."""

from __future__ import annotations

import openai
import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.support.factories import make_token, make_user
from tests.support.inference import publish_model

pytestmark = [pytest.mark.live, pytest.mark.slow]

PROMPT = "alpha beta gamma"
NO_TEMPLATE = "this model has no chat template (its tokenizer_config.json has no chat_template): use a plain prompt"
MESSAGES = [{"role": "user", "content": "delta epsilon"}]


def transformers_greedy(path, *, max_new_tokens: int, messages=None, prompt=None) -> str:
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path).eval()
    if messages is not None:
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        ids = ids["input_ids"]
    else:
        ids = tokenizer(prompt, return_tensors="pt").input_ids
    out = model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


@pytest.fixture
def client(live_inference, hub_url, model_dirs):
    alice = make_user("alice")
    publish_model(alice, "tiny-llama", model_dirs["llama"])
    publish_model(alice, "no-chat", model_dirs["nochat"])
    publish_model(alice, "secret", model_dirs["llama2"], private=True)
    publish_model(alice, "bert", model_dirs["mlm"])
    return openai.OpenAI(base_url=f"{hub_url}/v1", api_key=make_token(alice), max_retries=0, timeout=60)


def test_completions_greedy_equals_transformers_streamed_or_not(client, model_dirs):
    expected = transformers_greedy(model_dirs["llama"], max_new_tokens=48, prompt=PROMPT)
    whole = client.completions.create(model="alice/tiny-llama", prompt=PROMPT, max_tokens=48, temperature=0)
    assert whole.object == "text_completion"
    assert whole.model == "alice/tiny-llama"
    assert whole.choices[0].text == expected
    assert whole.usage.completion_tokens == 48 or whole.choices[0].finish_reason == "stop"
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens

    chunks = list(
        client.completions.create(
            model="alice/tiny-llama", prompt=PROMPT, max_tokens=48, temperature=0, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    texts = [c.choices[0].text for c in chunks if c.choices]
    assert len(texts) >= 3
    assert "".join(texts) == expected
    assert chunks[-1].usage.model_dump() == whole.usage.model_dump()
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason


def test_chat_completions_use_the_chat_template(client, model_dirs):
    expected = transformers_greedy(model_dirs["llama"], max_new_tokens=40, messages=MESSAGES)
    whole = client.chat.completions.create(model="alice/tiny-llama", messages=MESSAGES, max_tokens=40, temperature=0)
    assert whole.object == "chat.completion"
    assert whole.choices[0].message.role == "assistant"
    assert whole.choices[0].message.content == expected

    stream = client.chat.completions.create(
        model="alice/tiny-llama", messages=MESSAGES, max_tokens=40, temperature=0, stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == expected
    assert chunks[-1].choices[0].finish_reason == whole.choices[0].finish_reason


def test_seeded_sampling_repeats(client):
    def sample(seed):
        return (
            client.completions.create(
                model="alice/tiny-llama", prompt=PROMPT, max_tokens=30, temperature=1.3, seed=seed
            )
            .choices[0]
            .text
        )

    assert sample(11) == sample(11)
    assert sample(11) != sample(12)


def test_models_lists_the_enabled_text_generation_models(client):
    assert [m.id for m in client.models.list().data] == ["alice/no-chat", "alice/secret", "alice/tiny-llama"]


def test_errors_a_client_meets(client, hub_url):
    with pytest.raises(openai.AuthenticationError) as caught:
        openai.OpenAI(base_url=f"{hub_url}/v1", api_key="hub_wrong", max_retries=0).completions.create(
            model="alice/tiny-llama", prompt=PROMPT
        )
    assert caught.value.status_code == 401
    assert caught.value.response.json() == {"error": "Invalid user token.", "code": "invalid_token"}

    bob = openai.OpenAI(base_url=f"{hub_url}/v1", api_key=make_token(make_user("bob")), max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        bob.completions.create(model="alice/secret", prompt=PROMPT)
    assert caught.value.response.json() == {"error": "Repository alice/secret not found.", "code": "repo_not_found"}
    assert [m.id for m in bob.models.list().data] == ["alice/no-chat", "alice/tiny-llama"]

    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="alice/no-chat", messages=MESSAGES)
    assert caught.value.response.json() == {
        "error": NO_TEMPLATE,
        "code": "no_chat_template",
        "fields": {"messages": [NO_TEMPLATE]},
    }

    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="alice/bert", prompt=PROMPT)
    assert caught.value.response.json()["code"] == "unsupported_pipeline"
    assert caught.value.response.json()["error"] == "alice/bert is a fill-mask model: use its 'fill-mask' operation."

    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="alice/tiny-llama", prompt=PROMPT, max_tokens=5000)
    assert caught.value.response.json() == {
        "error": "max_new_tokens must be in [1, 1024]; got 5000",
        "code": "invalid",
        "fields": {"max_new_tokens": ["max_new_tokens must be in [1, 1024]; got 5000"]},
    }
    assert client.completions.create(model="alice/tiny-llama", prompt=PROMPT, max_tokens=2).usage.completion_tokens
