"""Dataset, Space and tutorial cards: their own keys, on top of those every card shares."""

# The case tables keep one case per line (input, path, exact message) so each reads at a glance;
# the messages are long, so E501 gives way to that here.
# ruff: noqa: E501

import pytest

from registry.cards import CardIssue, card_parse
from registry.cards.vocab import LICENSE_IDS, PIPELINE_TAGS, SIZE_CATEGORIES
from tests.registry.cards.card_texts import DATASET_CARD, SPACE_CARD, TUTORIAL_CARD


def card(repo_type: str, front_matter: str):
    return card_parse(f"---\n{front_matter}\n---\n", repo_type=repo_type)


def test_dataset_card_is_read_and_normalised():
    parsed = card_parse(DATASET_CARD, repo_type="dataset")
    assert (parsed.errors, parsed.warnings) == ([], [])
    assert parsed.licenses == ["cc-by-4.0", "mit"]
    assert parsed.license == "cc-by-4.0"
    assert parsed.language == ["en", "fr"]
    assert parsed.task_categories == ["text-generation", "question-answering"]
    assert parsed.size_categories == ["10K<n<100K"]
    assert parsed.tags == ["synthetic"]
    assert parsed.metadata["configs"][0]["data_files"][1]["path"] == ["data/test-0.parquet", "data/test-1.parquet"]
    assert parsed.body == "# Tiny Stories\n"


def test_space_card_is_read_and_normalised():
    parsed = card_parse(SPACE_CARD, repo_type="space")
    assert (parsed.errors, parsed.warnings) == ([], [])
    assert (parsed.license, parsed.models, parsed.datasets, parsed.tags) == (
        "mit",
        ["org/tiny-chat"],
        ["imdb"],
        ["demo"],
    )
    assert parsed.metadata["emoji"] == "💬"


def test_tutorial_card_is_read_and_normalised():
    parsed = card_parse(TUTORIAL_CARD, repo_type="tutorial")
    assert (parsed.errors, parsed.warnings) == ([], [])
    assert parsed.authors == ["Ada", "Grace Hopper"]
    assert (parsed.difficulty, parsed.reading_time) == ("beginner", 15)
    assert (parsed.license, parsed.language, parsed.tags) == ("cc-by-4.0", ["en"], ["fine-tuning", "lora"])
    assert (parsed.models, parsed.datasets) == (["org/tiny-chat"], ["imdb"])


def test_model_keys_are_not_checked_on_other_cards():
    # pipeline_tag and base_model mean nothing on a dataset card: they are kept, not judged.
    parsed = card("dataset", "pipeline_tag: not-a-task\nbase_model: /local/path")
    assert (parsed.errors, parsed.pipeline_tag, parsed.base_model) == ([], None, [])
    assert parsed.metadata == {"pipeline_tag": "not-a-task", "base_model": "/local/path"}


SIZES = ", ".join(SIZE_CATEGORIES)
C = "configs[0]"

INVALID_CARDS = [
    ("dataset", "license: [mit, apache2]", "license[1]", '"apache2" is not a license id the registry knows (did you mean "apache-2.0"?). Use one of ' + ", ".join(sorted(LICENSE_IDS - {"other"})) + ', or "other" together with license_name and license_link'),
    ("dataset", "task_categories: [text-generator]", "task_categories[0]", '"text-generator" is not a known task id (did you mean "text-generation"?). Use one of ' + ", ".join(PIPELINE_TAGS)),
    ("dataset", "size_categories: 10K-100K", "size_categories", f'"10K-100K" is not a size category; use one of {SIZES}'),
    ("dataset", "size_categories: [n<1K, 1M]", "size_categories[1]", f'"1M" is not a size category; use one of {SIZES}'),
    ("dataset", "pretty_name: [a]", "pretty_name", "must be the dataset's display name (a single string); found a list"),
    ("dataset", "configs: default", "configs", 'must be a list of configurations, each with a config_name; found the string "default"'),
    ("dataset", "configs: [x]", C, 'must be a mapping with config_name and data_files; found the string "x"'),
    ("dataset", "configs: [{data_files: a.csv}]", f"{C}.config_name", "must be the configuration's name (a string); found nothing (null)"),
    ("dataset", "configs: [{config_name: a}, {config_name: a}]", "configs[1].config_name", '"a" names another configuration too; names must be unique'),
    ("dataset", "configs: [{config_name: a, default: true}, {config_name: b, default: true}]", "configs", "marks 2 configurations as default; at most one may be"),
    ("dataset", "configs: [{config_name: a, default: 'yes'}]", f"{C}.default", 'must be true or false; found the string "yes"'),
    ("dataset", "configs: [{config_name: a, data_files: 5}]", f"{C}.data_files", "must be a path pattern, a list of them, or a list of splits; found the number 5"),
    ("dataset", "configs: [{config_name: a, data_files: [3]}]", f"{C}.data_files[0]", "must be a path pattern or a mapping with split and path; found the number 3"),
    ("dataset", "configs: [{config_name: a, data_files: [{path: a.csv}]}]", f"{C}.data_files[0].split", "must be the split's name (a string); found nothing (null)"),
    ("dataset", "configs: [{config_name: a, data_files: [{split: train, path: []}]}]", f"{C}.data_files[0].path", "must be a path pattern or a list of them; found a list"),
    ("dataset", "configs: [{config_name: a, data_dir: 5}]", f"{C}.data_dir", "must be a directory of this repo (a string); found the number 5"),
    ("space", "sdk: flask", "sdk", '"flask" is not allowed; use one of gradio, streamlit, docker, static'),
    ("space", "colorFrom: orange", "colorFrom", '"orange" is not allowed; use one of red, yellow, green, blue, indigo, purple, pink, gray'),
    ("space", "colorTo: grey", "colorTo", '"grey" is not allowed (did you mean "gray"?); use one of red, yellow, green, blue, indigo, purple, pink, gray'),
    ("space", f"short_description: {'d' * 61}", "short_description", "is 61 characters long; at most 60 are allowed"),
    ("space", "title: 5", "title", "must be the Space's title (a single string); found the number 5 (put it in quotes to keep it as text)"),
    ("space", "models: [/tmp/m]", "models[0]", '"/tmp/m" is not a model id: it looks like a local path. Use the id of a model repo on this hub, "name" or "namespace/name" (letters, digits, "-", "_" and "."; at most 96 characters a part)'),
    ("tutorial", "difficulty: easy", "difficulty", '"easy" is not allowed; use one of beginner, intermediate, advanced'),
    ("tutorial", "difficulty: Beginner", "difficulty", '"Beginner" is not allowed (did you mean "beginner"?); use one of beginner, intermediate, advanced'),
    ("tutorial", "reading_time: 0", "reading_time", "must be a positive whole number of minutes, such as 15; found the number 0"),
    ("tutorial", "reading_time: -5", "reading_time", "must be a positive whole number of minutes, such as 15; found the number -5"),
    ("tutorial", "reading_time: '15'", "reading_time", 'must be a positive whole number of minutes, such as 15; found the string "15"'),
    ("tutorial", "reading_time: true", "reading_time", "must be a positive whole number of minutes, such as 15; found true"),
    ("tutorial", "reading_time: 2.5", "reading_time", "must be a positive whole number of minutes, such as 15; found the number 2.5"),
    ("tutorial", "authors: [Ada, 7]", "authors[1]", "must be a string; found the number 7 (put it in quotes to keep it as text)"),
    ("tutorial", "models: [a/b/c]", "models[0]", '"a/b/c" is not a model id: it has more than one \'/\'. Use the id of a model repo on this hub, "name" or "namespace/name" (letters, digits, "-", "_" and "."; at most 96 characters a part)'),
    ("tutorial", "datasets: [x y]", "datasets[0]", '"x y" is not a dataset id: it has characters other than letters, digits, \'-\', \'_\' and \'.\'. Use the id of a dataset repo on this hub, "name" or "namespace/name" (letters, digits, "-", "_" and "."; at most 96 characters a part)'),
    ("tutorial", "license: [mit]", "license", "must be a license id (a single string); found a list"),
]  # fmt: skip


@pytest.mark.parametrize(("repo_type", "front_matter", "field", "message"), INVALID_CARDS)
def test_invalid_card_is_refused_with_one_exact_error(repo_type, front_matter, field, message):
    parsed = card(repo_type, front_matter)
    assert parsed.errors == [CardIssue(field, message)]


@pytest.mark.parametrize(
    ("repo_type", "front_matter", "field", "message"),
    [
        ("dataset", "task_categories: conversational", "task_categories", '"conversational" is a retired task id; use "text-generation"'),
        ("dataset", "task_ids: [language-modeling, nonsense-task]", "task_ids[1]", "\"nonsense-task\" is not a task id of the Hub's taxonomy; check the spelling"),
        ("tutorial", "language: [en, xq]", "language[1]", '"xq" is not an ISO 639 language code the registry knows; check the spelling'),
    ],
)  # fmt: skip
def test_doubtful_card_is_accepted_with_one_exact_warning(repo_type, front_matter, field, message):
    parsed = card(repo_type, front_matter)
    assert parsed.errors == []
    assert parsed.warnings == [CardIssue(field, message)]


def test_refused_tutorial_values_are_left_out():
    parsed = card("tutorial", "difficulty: easy\nreading_time: 0\nauthors: [Ada, 7]")
    assert (parsed.difficulty, parsed.reading_time, parsed.authors) == (None, None, ["Ada"])
    assert parsed.metadata == {"difficulty": "easy", "reading_time": 0, "authors": ["Ada", 7]}
