"""What the registry accepts, huggingface_hub 2.4.0 reads the same way; what it cannot read, the registry refuses.

Also drives the client's own ``/api/validate-yaml`` call against a local server answering with
``validate_yaml_response``, to pin the warnings and the ``ValueError`` it turns the answers into.
"""

# The case table keeps one case per line (front matter, client error, path); E501 gives way to that here.
# ruff: noqa: E501

import dataclasses
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from huggingface_hub import DatasetCard, HfApi, ModelCard, RepoCard, SpaceCard
from huggingface_hub.repocard_data import model_index_to_eval_results

from registry.cards import card_parse, validate_yaml_response
from tests.registry.cards.card_texts import (
    DATASET_CARD,
    FULL_MODEL_CARD,
    SPACE_CARD,
    TUTORIAL_CARD,
    TWO_MODELS_CARD,
)

CRLF_MODEL_CARD = "---\r\nlicense: mit\r\ntags:\r\n- a\r\n- b\r\nlanguage: en\r\n---\r\n# Title\r\n"
PLAIN_README = "# Just a README\n\nNo metadata at all.\n"

VALID = [
    ("model", FULL_MODEL_CARD, ModelCard),
    ("model", CRLF_MODEL_CARD, ModelCard),
    ("model", PLAIN_README, ModelCard),
    ("dataset", DATASET_CARD, DatasetCard),
    ("space", SPACE_CARD, SpaceCard),
    ("tutorial", TUTORIAL_CARD, RepoCard),
]


@pytest.mark.parametrize(("repo_type", "text", "client_class"), VALID)
def test_client_reads_the_metadata_and_body_the_registry_accepted(repo_type, text, client_class):
    card = card_parse(text, repo_type=repo_type)
    assert card.is_valid
    client_card = client_class(text)
    assert client_card.data.to_dict() == card.metadata
    assert client_card.text == card.body


@pytest.mark.parametrize(("text", "count"), [(FULL_MODEL_CARD, 1), (TWO_MODELS_CARD, 4)])
def test_eval_results_agree_with_the_client_flattening(text, count):
    card = card_parse(text, repo_type="model")
    _, client_results = model_index_to_eval_results(card.model_index)
    ours = [dataclasses.asdict(result) for result in card.eval_results]
    for result in ours:
        del result["model_name"]  # the registry's addition: which model-index entry the result came from
    assert len(ours) == count
    assert ours == [dataclasses.asdict(result) for result in client_results]


def test_model_card_eval_results_agree_with_the_client_card():
    card = card_parse(FULL_MODEL_CARD, repo_type="model")
    client_data = ModelCard(FULL_MODEL_CARD).data
    assert client_data.model_name == card.eval_results[0].model_name
    ours = [dataclasses.asdict(result) for result in card.eval_results]
    for result in ours:
        del result["model_name"]
    assert ours == [dataclasses.asdict(result) for result in client_data.eval_results]


UNREADABLE_BY_THE_CLIENT = [
    ("model-index: foo", ValueError, "model-index"),
    ("model-index:\n- results: []", ValueError, "model-index[0].name"),
    ("model-index:\n- name: m\n  results:\n  - task: text-generation\n    dataset: {type: d, name: D}\n    metrics: []", ValueError, "model-index[0].results[0].task"),
    ("model-index:\n- name: m\n  results:\n  - task: {type: t}\n    dataset: {type: d}\n    metrics: []", ValueError, "model-index[0].results[0].dataset.name"),
    ("model-index:\n- name: m\n  results:\n  - task: {type: t}\n    dataset: {type: d, name: D}\n    metrics: [{type: acc}]", ValueError, "model-index[0].results[0].metrics[0].value"),
    ("model-index:\n- name: m\n  results:\n  - task: {type: t}\n    dataset: {type: d, name: D}\n    metrics: [{type: a, value: 1}]\n    source: {name: Board}", ValueError, "model-index[0].results[0].source.url"),
    ("released: 2024-13-45", ValueError, "yaml"),
    ("a: &x.y 1", yaml.YAMLError, "yaml"),
    ("tags: 2024-01-31", TypeError, "tags"),
    ("tags: .nan", TypeError, "tags"),
    ("eval_results: [accuracy]", ValueError, "eval_results"),
    ("ignore_metadata_errors: true", TypeError, "ignore_metadata_errors"),
]  # fmt: skip


@pytest.mark.parametrize(("front_matter", "client_error", "field"), UNREADABLE_BY_THE_CLIENT)
def test_what_the_client_cannot_read_is_refused(front_matter, client_error, field):
    text = f"---\n{front_matter}\n---\n"
    with pytest.raises(client_error):
        ModelCard(text)
    assert [issue.field for issue in card_parse(text, repo_type="model").errors] == [field]


def test_front_matter_that_is_not_a_mapping_is_refused_by_both():
    text = "---\n- a\n- b\n---\n"
    with pytest.raises(ValueError, match="repo card metadata block should be a dict"):
        RepoCard(text)
    assert [issue.field for issue in card_parse(text, repo_type="model").errors] == ["yaml"]


class _ValidateYamlHandler(BaseHTTPRequestHandler):
    """Answers POST /api/validate-yaml as the registry's endpoint does."""

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status, body = validate_yaml_response(card_parse(payload["content"], repo_type=payload["repoType"]))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def validating_api():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ValidateYamlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HfApi(endpoint=f"http://127.0.0.1:{server.server_port}", token=False)
    server.shutdown()
    server.server_close()


@pytest.mark.live
def test_client_accepts_a_valid_card_silently(validating_api, recwarn):
    validating_api._validate_yaml(FULL_MODEL_CARD, repo_type="model")
    assert [str(warning.message) for warning in recwarn if warning.category is UserWarning] == []


@pytest.mark.live
def test_client_turns_warnings_into_a_user_warning(validating_api):
    with pytest.warns(UserWarning, match="Warnings while validating metadata in README.md") as caught:
        validating_api._validate_yaml("This is a modelcard without metadata", repo_type="model")
    assert [str(warning.message) for warning in caught] == [
        "Warnings while validating metadata in README.md:\n"
        "- yaml: the card has no metadata; add a front matter block (a --- line, YAML keys such as license and"
        " tags, then a --- line) at the top of README.md"
    ]


@pytest.mark.live
def test_client_turns_a_refusal_into_value_error(validating_api):
    # The model card huggingface_hub's own tests expect the Hub to refuse.
    invalid = "\n---\nmodel-index: foo\n---\n\nThis is a modelcard with an invalid metadata section.\n"
    with pytest.raises(ValueError) as caught:
        validating_api._validate_yaml(invalid, repo_type="model")
    assert str(caught.value) == (
        "Invalid metadata in README.md.\n"
        '- model-index: must be a list of models, each with a name and results; found the string "foo"'
    )


@pytest.mark.live
def test_client_sends_the_repo_type_it_is_given(validating_api):
    with pytest.raises(ValueError) as caught:
        validating_api._validate_yaml("---\nsize_categories: huge\n---\n", repo_type="dataset")
    assert str(caught.value).startswith(
        'Invalid metadata in README.md.\n- size_categories: "huge" is not a size category; use one of n<1K,'
    )
