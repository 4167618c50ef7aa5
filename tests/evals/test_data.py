"""Dataset snapshots: pins, the JSONL and WikiText loaders, the data-root resolution."""

import hashlib
from pathlib import Path

import pytest

from evals.harness.data import DATA_ROOT_ENV, default_data_root, load_split, read_pinned, resolve_data_root
from evals.harness.errors import DatasetError, DatasetPinError
from evals.harness.spec import DataFile, DatasetSpec, load_task_spec
from evals.harness.suite import SUITES_DIR


def _spec_for(root: Path, name: str, body: bytes, *, fmt: str = "jsonl", id_field: str | None = "id") -> DatasetSpec:
    (root / name).write_bytes(body)
    return DatasetSpec(fmt, {"test": DataFile(name, hashlib.sha256(body).hexdigest())}, id_field=id_field)


def test_pinned_file_is_read_and_a_changed_file_is_refused(tmp_path):
    body = b'{"id": 1}\n'
    spec = _spec_for(tmp_path, "a.jsonl", body)
    assert read_pinned(tmp_path, spec.splits["test"]) == body
    (tmp_path / "a.jsonl").write_bytes(b'{"id": 2}\n')
    with pytest.raises(DatasetPinError) as error:
        load_split(tmp_path, spec, "test")
    actual = hashlib.sha256(b'{"id": 2}\n').hexdigest()
    assert str(error.value) == (
        f"dataset file {tmp_path / 'a.jsonl'} has sha256 {actual}, but the task pins {spec.splits['test'].sha256}; "
        "the snapshot differs from the one the task was written for"
    )
    with pytest.raises(DatasetError, match="does not exist"):
        read_pinned(tmp_path, DataFile("missing.jsonl", "0" * 64))


def test_jsonl_items_take_ids_from_the_id_field_or_their_position(tmp_path):
    spec = _spec_for(tmp_path, "a.jsonl", b'{"id": "x", "v": 1}\n\n{"id": "y", "v": 2}\n')
    assert [(item.id, item.doc["v"]) for item in load_split(tmp_path, spec, "test")] == [("x", 1), ("y", 2)]
    positional = _spec_for(tmp_path, "b.jsonl", b'{"v": 1}\n{"v": 2}\n', id_field=None)
    assert [item.id for item in load_split(tmp_path, positional, "test")] == [0, 1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": 1}\n{"id": 1}\n', "a.jsonl: duplicate item id 1"),
        (b'{"id": 1}\n{"v": 2}\n', "a.jsonl: document 1 has no id field 'id'"),
        (b'{"id": 1}\n{oops\n', "a.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes"),
        (b"[1, 2]\n", "a.jsonl:1: each line must be a JSON object"),
        (b'{"id": 1.5}\n', "a.jsonl: document 0: id must be an integer or a string"),
        (b"\xff\xfe\n", "a.jsonl: not UTF-8 (byte 0)"),
    ],
)
def test_malformed_jsonl_is_reported_with_its_location(tmp_path, body, message):
    spec = _spec_for(tmp_path, "a.jsonl", body)
    with pytest.raises(DatasetError) as error:
        load_split(tmp_path, spec, "test")
    assert str(error.value) == message


def test_wikitext_articles_are_split_on_blank_lines(tmp_path):
    body = b" = First = \nLine one.\nLine two.\n\n = Second = \nOnly line.\n"
    spec = _spec_for(tmp_path, "w.txt", body, fmt="wikitext", id_field=None)
    items = load_split(tmp_path, spec, "test")
    assert [(item.id, item.doc["title"], item.doc["text"]) for item in items] == [
        (0, "First", "= First = \nLine one.\nLine two."),
        (1, "Second", "= Second = \nOnly line."),
    ]
    broken = _spec_for(tmp_path, "bad.txt", b"No title here.\n", fmt="wikitext", id_field=None)
    with pytest.raises(DatasetError, match="article 0 does not start with a ' = Title = ' line"):
        load_split(tmp_path, broken, "test")


def test_shared_wiki_splits_match_the_kit_readme(shared_data):
    dataset = load_task_spec(SUITES_DIR / "tasks" / "wikitext.yaml").dataset
    # README: articles and whitespace-split words per split. Each article loses its title line's
    # leading space and its final newline, and the blank lines between articles are not text.
    expected = {"train": (82, 334_199, 2_125_608), "validation": (11, 52_215, 330_660), "test": (11, 59_889, 379_717)}
    for split, (articles, words, file_bytes) in expected.items():
        items = load_split(shared_data, dataset, split)
        assert len(items) == articles
        assert sum(len(item.doc["text"].split()) for item in items) == words
        stripped = 2 * articles + (articles - 1)
        assert sum(len(item.doc["text"].encode()) for item in items) == file_bytes - stripped
    assert load_split(shared_data, dataset, "test")[0].doc["title"] == "ASCII"


def test_shipped_pins_agree_with_the_kit_manifest(shared_data):
    manifest = dict(
        reversed(line.split("  ", 1)) for line in (shared_data / "MANIFEST.sha256").read_text().splitlines() if line
    )
    dataset = load_task_spec(SUITES_DIR / "tasks" / "wikitext.yaml").dataset
    for data_file in dataset.splits.values():
        assert manifest[data_file.path] == data_file.sha256
    suite_text = (SUITES_DIR / "bigbench_mc.yaml").read_text()
    assert manifest["bigbench/tasks.json"] in suite_text


def test_data_root_comes_from_the_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ROOT_ENV, str(tmp_path))
    assert default_data_root() == tmp_path
    assert resolve_data_root() == tmp_path
    other = tmp_path / "other"
    other.mkdir()
    assert resolve_data_root(other) == other
    monkeypatch.delenv(DATA_ROOT_ENV)
    assert default_data_root() == Path(__file__).resolve().parents[2].parent / "shared" / "data"
    with pytest.raises(DatasetError, match="does not exist"):
        resolve_data_root(tmp_path / "nowhere")
