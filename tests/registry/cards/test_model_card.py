"""Model cards: what is accepted, how it is normalised, and the exact message of each refusal."""

# The case tables keep one case per line (input, path, exact message) so each reads at a glance;
# the messages are long, so E501 gives way to that here.
# ruff: noqa: E501

import pytest

from registry.cards import Card, CardIssue, EvalResult, card_parse
from registry.cards.vocab import LICENSE_IDS, PIPELINE_TAGS
from tests.registry.cards.card_texts import FULL_MODEL_CARD

NO_METADATA = CardIssue(
    "yaml",
    "the card has no metadata; add a front matter block (a --- line, YAML keys such as license and tags,"
    " then a --- line) at the top of README.md",
)
QUOTE_BOOLEANS = "(YAML reads unquoted yes, no, on, off, true and false as booleans: put the text in quotes)"


def model(front_matter: str) -> Card:
    return card_parse(f"---\n{front_matter}\n---\nbody\n", repo_type="model")


def license_message(head: str) -> str:
    return (
        head
        + ". Use one of "
        + ", ".join(sorted(LICENSE_IDS - {"other"}))
        + ', or "other" together with license_name and license_link'
    )


def repo_id_message(value: str, kind: str, reason: str) -> str:
    return (
        f'"{value}" is not a {kind} id: {reason}. Use the id of a {kind} repo on this hub,'
        ' "name" or "namespace/name" (letters, digits, "-", "_" and "."; at most 96 characters a part)'
    )


def test_full_model_card_is_read_and_normalised():
    card = card_parse(FULL_MODEL_CARD, repo_type="model")
    assert card.errors == []
    assert card.warnings == []
    assert card.is_valid
    assert card.body == "# Tiny chat\n\nA small chat model.\n"
    assert card.license == "apache-2.0"
    assert card.licenses == ["apache-2.0"]
    assert (card.license_name, card.license_link) == (None, None)
    assert card.language == ["en", "fr", "pt-BR"]
    assert card.library_name == "transformers"
    assert card.pipeline_tag == "text-generation"
    assert card.tags == ["llm", "chat"]
    assert card.datasets == ["HuggingFaceH4/ultrachat_200k", "imdb"]
    assert card.base_model == ["mistralai/Mistral-7B-v0.1"]
    assert card.metadata["widget"] == [{"text": "Hello"}]  # free-form keys are kept
    assert card.metadata["base_model"] == "mistralai/Mistral-7B-v0.1"  # metadata stays as written
    assert card.model_index == card.metadata["model-index"]
    assert card.eval_results == [
        EvalResult(
            task_type="text-generation",
            task_name="Text Generation",
            dataset_type="ai2_arc",
            dataset_name="AI2 Reasoning Challenge (25-Shot)",
            dataset_config="ARC-Challenge",
            dataset_split="test",
            dataset_args={"num_few_shot": 25},
            metric_type="acc_norm",
            metric_value=64.59,
            metric_name="normalized accuracy",
            source_name="Open LLM Leaderboard",
            source_url="https://example.org/leaderboard",
            model_name="tiny-chat",
        )
    ]


def test_strings_become_lists_and_duplicates_go():
    card = model("tags: chat\ndatasets: imdb\nbase_model: [org/a, org/b, org/a]\nlanguage: en\nlicense: mit")
    assert card.errors == []
    assert (card.tags, card.datasets, card.base_model, card.language) == (
        ["chat"],
        ["imdb"],
        ["org/a", "org/b"],
        ["en"],
    )


def test_null_values_count_as_absent():
    # Libraries write empty keys, e.g. "base_model:" when they do not know it.
    card = model("base_model:\nlicense:\ntags:\nlibrary_name: peft")
    assert (card.errors, card.warnings) == ([], [])
    assert (card.base_model, card.license, card.tags, card.library_name) == ([], None, [], "peft")
    assert card.metadata == {"base_model": None, "license": None, "tags": None, "library_name": "peft"}


@pytest.mark.parametrize(
    "language",
    ["en", "fra", "ger", "zh-Hans", "es-419", "sr-Latn-RS", "en-us", "multilingual", "code", "sla", "mul", "'no'"],
)
def test_language_codes_accepted_quietly(language):
    card = model(f"language: [{language}]")
    assert (card.errors, card.warnings) == ([], [])
    assert card.language == [language.strip("'")]


def test_card_without_metadata_is_valid_with_a_warning():
    card = card_parse("# A model\n\nNo metadata here.\n", repo_type="model")
    assert card.is_valid
    assert card.metadata == {}
    assert card.body == "# A model\n\nNo metadata here.\n"
    assert card.warnings == [NO_METADATA]


def test_front_matter_that_is_not_a_mapping_is_refused():
    card = card_parse("---\n- license: mit\n---\nbody", repo_type="model")
    assert card.errors == [CardIssue("yaml", "the front matter must be a mapping of keys to values; found a list")]
    assert (card.metadata, card.body) == ({}, "body")


def test_document_level_errors_keep_what_could_be_read():
    card = model("license: mit\nlicense: apache-2.0")
    assert [issue.field for issue in card.errors] == ["yaml"]
    assert card.metadata == {"license": "apache-2.0"}
    assert card.license == "apache-2.0"


def test_unknown_repo_type_is_a_programming_error():
    with pytest.raises(ValueError, match="repo_type must be one of model, dataset, space, tutorial; got 'models'"):
        card_parse("", repo_type="models")


INVALID_MODEL_CARDS = [
    ("license: apache2", "license", license_message('"apache2" is not a license id the registry knows (did you mean "apache-2.0"?)')),
    ("license: Apache 2.0", "license", license_message('"Apache 2.0" is not a license id the registry knows (did you mean "apache-2.0"?)')),
    ("license: MIT", "license", license_message('"MIT" is not a license id the registry knows (did you mean "mit"?)')),
    ("license: my-own", "license", license_message('"my-own" is not a license id the registry knows')),
    ("license: [mit, apache-2.0]", "license", "must be a license id (a single string); found a list"),
    ("license: 2", "license", "must be a license id (a single string); found the number 2 (put it in quotes to keep it as text)"),
    ("license_link: ../LICENSE", "license_link", '"../LICENSE" must be an http(s) URL or the path of a file in this repo, such as "LICENSE" or "LICENSE.md"'),
    ("license_link: ftp://example.org/LICENSE", "license_link", '"ftp://example.org/LICENSE" must be an http(s) URL or the path of a file in this repo, such as "LICENSE" or "LICENSE.md"'),
    ("license_name: 5\nlicense: other", "license_name", "must be the id of the license (a single string); found the number 5 (put it in quotes to keep it as text)"),
    ("pipeline_tag: text-generator", "pipeline_tag", '"text-generator" is not a known task id (did you mean "text-generation"?). Use one of ' + ", ".join(PIPELINE_TAGS)),
    ("pipeline_tag: [text-generation]", "pipeline_tag", "must be a task id (a single string); found a list"),
    ("library_name: trans formers", "library_name", '"trans formers" is not a library id: use letters, digits, ".", "_", "+" and "-", such as "transformers"'),
    ("tags: [llm, 2023]", "tags[1]", "must be a string; found the number 2023 (put it in quotes to keep it as text)"),
    ("tags: {a: b}", "tags", "must be a string or a list of strings; found a mapping"),
    ("tags: 2024-01-31", "tags", "must be a string or a list of strings; found the date 2024-01-31 (put it in quotes to keep it as text)"),
    ("tags: .nan", "tags", "must be a string or a list of strings; found the number nan (put it in quotes to keep it as text)"),
    ("language: [en, 2024-01-31]", "language[1]", "must be a string; found the date 2024-01-31 (put it in quotes to keep it as text)"),
    ("tags: ['  ']", "tags[0]", "is empty"),
    ('tags: ["a\\nb"]', "tags[0]", "contains control characters (such as a line break or a tab); write it on one line"),
    (f"tags: [{'x' * 201}]", "tags[0]", "is 201 characters long; at most 200 are allowed"),
    ("tags: [" + ", ".join(f"t{i}" for i in range(201)) + "]", "tags", "lists 201 values; at most 200 are allowed"),
    ("datasets: [imdb, /workspace/data]", "datasets[1]", repo_id_message("/workspace/data", "dataset", "it looks like a local path")),
    ("base_model: a/b/c", "base_model", repo_id_message("a/b/c", "model", "it has more than one '/'")),
    ("base_model: my model", "base_model", repo_id_message("my model", "model", "it has characters other than letters, digits, '-', '_' and '.'")),
    ("base_model: -abc", "base_model", repo_id_message("-abc", "model", "a part starts or ends with '-' or '.'")),
    ("base_model: org/model.", "base_model", repo_id_message("org/model.", "model", "a part starts or ends with '-' or '.'")),
    ("base_model: org--x/model", "base_model", repo_id_message("org--x/model", "model", "it contains '--' or '..'")),
    ("base_model: org/a..b", "base_model", repo_id_message("org/a..b", "model", "it contains '--' or '..'")),
    ("base_model: org/model.git", "base_model", repo_id_message("org/model.git", "model", "it ends with '.git'")),
    (f"base_model: org/{'a' * 97}", "base_model", repo_id_message("org/" + "a" * 73 + "...", "model", "a part is 97 characters long; at most 96 are allowed")),
    ("base_model: https://example.org/org/model", "base_model", repo_id_message("https://example.org/org/model", "model", "it is a URL")),
    ("base_model: org/", "base_model", repo_id_message("org/", "model", "it has an empty part around '/'")),
    ("base_model: 'C:\\models\\x'", "base_model", repo_id_message("C:\\models\\x", "model", "it looks like a local path")),
    ("base_model_relation: finetuned", "base_model_relation", '"finetuned" is not allowed (did you mean "finetune"?); use one of adapter, merge, quantized, finetune'),
    ("language: [en, no]", "language[1]", f"must be a string; found false {QUOTE_BOOLEANS}"),
    ("language: no", "language", f"must be a string or a list of strings; found false {QUOTE_BOOLEANS}"),
    ("language: English", "language", '"English" is not a language code. Use an ISO 639-1, 639-2 or 639-3 code (two or three lowercase letters, such as "en" or "fra"), optionally followed by a region ("pt-BR"), or "multilingual" or "code"'),
    ("language: [EN]", "language[0]", '"EN" is not written as a language code: write "en"'),
    ("language: [pt_BR]", "language[0]", '"pt_BR" is not written as a language code: write "pt-BR"'),
    ("metrics: [accuracy, '']", "metrics[1]", "is empty"),
    ("eval_results: []", "eval_results", "is not read from a card; write evaluation results under model-index"),
    ("ignore_metadata_errors: true", "ignore_metadata_errors", "is reserved by the card loaders of huggingface_hub; remove it"),
]  # fmt: skip


@pytest.mark.parametrize(("front_matter", "field", "message"), INVALID_MODEL_CARDS)
def test_invalid_model_card_is_refused_with_one_exact_error(front_matter, field, message):
    card = model(front_matter)
    assert card.errors == [CardIssue(field, message)]
    assert not card.is_valid


WARNED_MODEL_CARDS = [
    ("license: other", "license_name", 'is missing: a card whose license is "other" should name it in license_name (a short id such as "my-license-1.0") and link its text in license_link'),
    ("license: other\nlicense_name: My License\nlicense_link: LICENSE.md", "license_name", '"My License" should be a short lowercase id such as "my-license-1.0" (letters, digits, ".", "_", "+", "-")'),
    ("pipeline_tag: conversational", "pipeline_tag", '"conversational" is a retired task id; use "text-generation"'),
    ("language: [en, xq]", "language[1]", '"xq" is not an ISO 639 language code the registry knows; check the spelling'),
    ("language: [qaa-CH]", "language[0]", '"qaa" is not an ISO 639 language code the registry knows; check the spelling'),
    ("licence: mit", "licence", 'is not a key the registry reads; did you mean "license"?'),
    ("model_index: []", "model_index", 'is not a key the registry reads; did you mean "model-index"?'),
]  # fmt: skip


@pytest.mark.parametrize(("front_matter", "field", "message"), WARNED_MODEL_CARDS)
def test_doubtful_model_card_is_accepted_with_one_exact_warning(front_matter, field, message):
    card = model(front_matter)
    assert card.errors == []
    assert card.warnings == [CardIssue(field, message)]


def test_warned_values_are_still_indexed():
    card = model("pipeline_tag: conversational\nlanguage: [en, xq]\nlicense: other\nlicense_name: my-license-1.0")
    assert (card.pipeline_tag, card.language, card.license, card.license_name) == (
        "conversational",
        ["en", "xq"],
        "other",
        "my-license-1.0",
    )


def test_refused_values_are_left_out_of_the_normalised_fields():
    card = model("license: apache2\ntags: [ok, 5]\nlanguage: [en, English]\nbase_model: [org/a, /tmp/b]")
    assert [issue.field for issue in card.errors] == ["license", "tags[1]", "language[1]", "base_model[1]"]
    assert (card.license, card.tags, card.language, card.base_model) == (None, ["ok"], ["en"], ["org/a"])
    assert card.metadata["tags"] == ["ok", 5]


def test_license_link_may_be_a_url_or_a_repo_file():
    for link in ("https://example.org/license.txt", "LICENSE", "docs/LICENSE.md"):
        card = model(f"license: other\nlicense_name: my-license\nlicense_link: {link}")
        assert (card.errors, card.warnings, card.license_link) == ([], [], link)


def test_long_values_are_cut_to_80_characters_in_messages():
    card = model(f"library_name: {'x' * 5000}")
    assert card.errors == [
        CardIssue(
            "library_name",
            f'"{"x" * 77}..." is not a library id: use letters, digits, ".", "_", "+" and "-", such as "transformers"',
        )
    ]
