"""The vocabularies cards are checked against come from maintained sources: the Hub's lists from
one data file that names each list's source and date, compared with the constants huggingface_hub
ships where it has them; language codes from pycountry."""

import datetime
import re
import tomllib
from pathlib import Path

import yaml
from huggingface_hub import DatasetCardData, constants
from huggingface_hub.inference._providers import PROVIDERS

from registry.cards import iso639, vocab

DATA_FILE = Path(vocab.__file__).with_name("hub_vocabularies.yaml")
REPO_ROOT = Path(__file__).resolve().parents[3]


def test_every_hub_list_names_its_source_and_date():
    lists = yaml.safe_load(DATA_FILE.read_text())
    assert sorted(lists) == [
        "license_ids", "pipeline_tags", "retired_pipeline_tags", "size_categories", "space_colors", "space_sdks",
        "subtask_ids",
    ]  # fmt: skip
    for name, entry in lists.items():
        assert sorted(entry) == ["retrieved", "source", "values"], name
        assert isinstance(entry["retrieved"], datetime.date), name
        assert len(entry["source"]) > 20, name
        assert len(entry["values"]) == len(set(entry["values"])), name


def test_hub_lists_agree_with_huggingface_hub():
    assert list(vocab.SPACE_SDKS) == constants.SPACES_SDK_TYPES
    documented = re.search(r"size_categories.*?Options are: (.*?)\.\n", DatasetCardData.__doc__, re.S).group(1)
    assert list(vocab.SIZE_CATEGORIES) == re.findall(r"'([^']+)'", documented)
    # Every task the client's inference API serves is a task id of the taxonomy (or a retired one).
    assert set(PROVIDERS["hf-inference"]) <= vocab.PIPELINE_TAG_SET | set(vocab.RETIRED_PIPELINE_TAGS)


def test_language_codes_come_from_pycountry():
    assert (len(iso639.ISO_639_1), len(iso639.ISO_639_3), len(iso639.ISO_639_2_BIBLIOGRAPHIC)) == (184, 7923, 20)
    assert {"en", "fr", "zh"} <= iso639.ISO_639_1
    assert {"eng", "yue", "mis", "zxx"} <= iso639.ISO_639_3
    assert {"fre", "ger", "chi"} <= iso639.ISO_639_2_BIBLIOGRAPHIC
    assert {"gem", "sla"} <= iso639.ISO_639_5
    assert not Path(iso639.__file__).read_text().count("\naa ab ae")  # no copied table any more


def test_runtime_dependencies_are_what_the_hub_imports_at_run_time():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    runtime = {requirement.split("==")[0].split("[")[0] for requirement in project["dependencies"]}
    dev = {requirement.split("==")[0] for requirement in project["optional-dependencies"]["dev"]}
    assert {"hf-xet", "psutil", "factory-boy"} & runtime == set()  # the client's Xet, benchmarks, nothing
    assert {"hf-xet", "psutil"} <= dev
    assert "factory-boy" not in dev
    assert {"huggingface_hub", "pycountry"} <= runtime  # the repo-id validator; language codes
