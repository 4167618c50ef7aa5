"""The closed vocabularies a card's metadata is checked against.

The Hugging Face Hub's own lists (license ids, task ids and subtasks, dataset size categories,
Space SDKs and colors) live in ``hub_vocabularies.yaml`` beside this module, each with its source
and the date it was taken; the lists below are the hub's own.
"""

from pathlib import Path

import yaml

_HUB = yaml.safe_load((Path(__file__).with_name("hub_vocabularies.yaml")).read_text(encoding="utf-8"))

LICENSE_IDS = frozenset(_HUB["license_ids"]["values"])
# Task ids, in the order of the Hub's taxonomy (more specific first within a modality).
PIPELINE_TAGS = tuple(_HUB["pipeline_tags"]["values"])
PIPELINE_TAG_SET = frozenset(PIPELINE_TAGS)
# Task ids the Hub has retired, with the one to use instead. A card carrying one is accepted with a
# warning: many published cards still do.
RETIRED_PIPELINE_TAGS = dict(_HUB["retired_pipeline_tags"]["values"])
SUBTASK_IDS = frozenset(_HUB["subtask_ids"]["values"])
SIZE_CATEGORIES = tuple(_HUB["size_categories"]["values"])
SPACE_SDKS = tuple(_HUB["space_sdks"]["values"])
SPACE_COLORS = tuple(_HUB["space_colors"]["values"])

# How a model derives from its base_model (the Hub's model tree).
BASE_MODEL_RELATIONS = ("adapter", "merge", "quantized", "finetune")

# Values of ``language`` that are not ISO 639 codes but that the Hub documents as allowed.
SPECIAL_LANGUAGES = frozenset({"code", "multilingual"})

TUTORIAL_DIFFICULTIES = ("beginner", "intermediate", "advanced")


# Keys that are easy to get wrong; a card using one gets a warning naming the key the registry reads.
MISSPELLED_KEYS = {
    "licence": "license",
    "licenses": "license",
    "pipeline-tag": "pipeline_tag",
    "pipelinetag": "pipeline_tag",
    "library": "library_name",
    "library-name": "library_name",
    "base-model": "base_model",
    "basemodel": "base_model",
    "base_models": "base_model",
    "dataset": "datasets",
    "languages": "language",
    "lang": "language",
    "tag": "tags",
    "model_index": "model-index",
    "modelindex": "model-index",
}
