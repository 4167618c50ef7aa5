"""Seeded random front matter: the parser never raises, its output is JSON, and the client reads what it accepts."""

import json
import random

import pytest
import yaml
from huggingface_hub import DatasetCard, ModelCard, RepoCard, SpaceCard

from registry.cards import REPO_TYPES, card_parse, card_search_text, validate_yaml_response

CLIENT_CLASSES = {"model": ModelCard, "dataset": DatasetCard, "space": SpaceCard, "tutorial": RepoCard}
KEYS = [
    "license", "license_name", "license_link", "tags", "language", "model-index", "configs", "datasets", "base_model",
    "pipeline_tag", "library_name", "name", "results", "task", "dataset", "metrics", "type", "value", "source", "url",
    "data_files", "split", "path", "config_name", "default", "reading_time", "difficulty", "authors", "sdk",
    "colorFrom", "short_description", "task_categories", "size_categories", "models", "verified", "args", "title",
]  # fmt: skip
SCALARS = [
    None, True, False, 0, -3, 2.5, float("nan"), float("inf"), "", "x", "mit", "other", "en", "EN", "org/m",
    "/tmp/x", "text-generation", "beginner", "gradio", "n<1K", "a" * 100, 10**30,
]  # fmt: skip
PIECES = [
    *KEYS, ":", " ", "\n", "- ", "  ", "[", "]", "{", "}", ",", "&a", "*a", "!!int", "!!binary", "'", '"', "#",
    "2024-13-01", "1e400", "-.inf", "no", "~", "<<", "?", "|", "\t", "é", "\x85", "---", "...", "%", "\x00",
]  # fmt: skip


def random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(SCALARS)
    if roll < 0.65:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def structured_texts(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        data = {rng.choice(KEYS): random_value(rng) for _ in range(rng.randint(1, 6))}
        yield "---\n" + yaml.safe_dump(data) + "---\n# Title\n"


def garbled_texts(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield "---\n" + "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40))) + "\n---\nbody"


def check_card(text: str, repo_type: str) -> bool:
    card = card_parse(text, repo_type=repo_type)
    json.dumps(card.metadata, allow_nan=False)
    json.dumps(validate_yaml_response(card)[1], allow_nan=False)
    card_search_text(card)
    if card.is_valid:
        CLIENT_CLASSES[repo_type](text)  # raises if the client cannot read what was accepted
    return card.is_valid


@pytest.mark.parametrize("repo_type", REPO_TYPES)
def test_generated_structured_cards(repo_type):
    outcomes = [check_card(text, repo_type) for text in structured_texts(seed=7, count=50)]
    # The generator must exercise both sides, or the test proves nothing.
    assert 0 < sum(outcomes) < len(outcomes)


@pytest.mark.parametrize("repo_type", REPO_TYPES)
def test_generated_garbled_cards(repo_type):
    outcomes = [check_card(text, repo_type) for text in garbled_texts(seed=11, count=1500)]
    assert 0 < sum(outcomes) < len(outcomes)
