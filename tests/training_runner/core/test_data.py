"""Data readers, validation split, token shards, packing and deterministic order."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from training_runner.core.data import (
    PackedWindows,
    ShuffledBatches,
    build_token_stream,
    data_files,
    eval_batches,
    in_validation,
    iter_records,
    pad_sequences,
    split_of,
    split_records,
)
from training_runner.core.errors import ConfigError
from training_runner.core.tokenizer import train_bpe


def test_split_comes_from_file_or_folder_names() -> None:
    cases = {
        "train.txt": "train",
        "data/train-00000-of-00002.parquet": "train",
        "validation.jsonl": "validation",
        "valid.txt": "validation",
        "dev/part-0.jsonl": "validation",
        "test.txt": "test",
        "lee_background.txt": "train",  # a file that names no split is training data
        "data/testing_set.jsonl": "test",
    }
    assert {name: split_of(Path(name)) for name in cases} == cases


def test_readers_cover_text_jsonl_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("first doc\nstill first\n\n\nsecond doc\n")
    (tmp_path / "train.jsonl").write_text('{"text": "third"}\n\n{"text": "fourth"}\n')
    pq.write_table(pa.table({"text": ["fifth", "sixth"], "id": [1, 2]}), tmp_path / "train-0.parquet")
    (tmp_path / "valid.txt").write_text("held out\n")
    (tmp_path / ".hidden.txt").write_text("never read\n")
    (tmp_path / "README.md").write_text("not data\n")
    files = data_files(tmp_path, "train")
    assert [f.name for f in files] == ["train-0.parquet", "train.jsonl", "train.txt"]
    texts = [r["text"] for r in iter_records(files)]
    assert texts == ["fifth", "sixth", "third", "fourth", "first doc\nstill first", "second doc"]
    lines = [r["text"] for r in iter_records([tmp_path / "train.txt"], txt_mode="line")]
    assert lines == ["first doc", "still first", "second doc"]
    whole = [r["text"] for r in iter_records([tmp_path / "train.txt"], txt_mode="file")]
    assert whole == ["first doc\nstill first\n\n\nsecond doc"]
    assert [r["text"] for r in split_records(tmp_path, val_fraction=0.5, txt_mode="blank_line")["validation"]] == [
        "held out"
    ]


def test_jsonl_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_text('{"text": "ok"}\n{broken\n')
    with pytest.raises(ValueError, match=r"train\.jsonl:2: not JSON"):
        list(iter_records([tmp_path / "train.jsonl"]))


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.path: .* is not a directory"):
        data_files(tmp_path / "nope", "train")


def test_validation_carve_out_is_by_content(tmp_path: Path) -> None:
    docs = [" ".join([f"document number {i}"] * 3) for i in range(400)]
    (tmp_path / "corpus.txt").write_text("\n\n".join(docs) + "\n")
    split = split_records(tmp_path, val_fraction=0.1, txt_mode="blank_line")
    train = [r["text"] for r in split["train"]]
    val = [r["text"] for r in split["validation"]]
    assert sorted(train + val) == sorted(docs)
    assert set(train).isdisjoint(val)
    assert val == [d for d in docs if in_validation(json.dumps(d), 0.1)]
    assert 20 <= len(val) <= 60  # about 10 % of 400
    # Reordering the corpus moves no document across the split.
    (tmp_path / "corpus.txt").write_text("\n\n".join(reversed(docs)) + "\n")
    again = split_records(tmp_path, val_fraction=0.1, txt_mode="blank_line")
    assert sorted(r["text"] for r in again["validation"]) == sorted(val)


def test_token_shards_read_back_across_boundaries(tmp_path: Path) -> None:
    docs = [f"alpha beta {i} gamma delta epsilon" for i in range(50)]
    tok = train_bpe(docs, vocab_size=300)
    stream = build_token_stream(docs, tok, tmp_path / "s", fingerprint="f1", separator_id=0, tokens_per_shard=37)
    expected = [t for d in docs for t in [*tok.encode(d), 0]]
    assert len(stream) == len(expected)
    assert len(stream.files) == -(-len(expected) // 37)
    assert stream.slice(0, len(expected)).tolist() == expected
    assert stream.slice(30, 80).tolist() == expected[30:80]
    assert stream.num_documents == 50
    assert stream.num_bytes == sum(len(d.encode()) for d in docs)


def test_token_shards_are_cached_by_fingerprint(tmp_path: Path) -> None:
    docs = ["alpha beta gamma"] * 10
    tok = train_bpe(docs, vocab_size=280)
    first = build_token_stream(docs, tok, tmp_path, fingerprint="same", separator_id=0)
    written = first.files[0].stat().st_mtime_ns
    again = build_token_stream(["different text entirely"], tok, tmp_path, fingerprint="same", separator_id=0)
    assert again.files[0].stat().st_mtime_ns == written
    assert len(again) == len(first)
    rebuilt = build_token_stream(["beta"], tok, tmp_path, fingerprint="other", separator_id=0)
    assert rebuilt.slice(0, len(rebuilt)).tolist() == [*tok.encode("beta"), 0]


def test_packed_windows_overlap_by_one_token(tmp_path: Path) -> None:
    docs = [" ".join(["alpha"] * 20)] * 5
    tok = train_bpe(docs, vocab_size=270, min_frequency=1000)  # no merges: one token per byte
    stream = build_token_stream(docs, tok, tmp_path, fingerprint="x", separator_id=0)
    n = len(stream)
    windows = PackedWindows(stream, length=9, stride=8)
    assert len(windows) == (n - 9) // 8 + 1
    assert windows[1].tolist() == stream.slice(8, 17).tolist()
    assert windows[0][-1].item() == windows[1][0].item()
    assert windows.batch([0, 2]).shape == (2, 9)


def test_shuffled_batches_are_deterministic_and_resumable() -> None:
    a = ShuffledBatches(10, 3, seed=5)
    first_epoch = [a.next() for _ in range(3)]  # 9 of 10 items; the short remainder is dropped
    assert len({i for batch in first_epoch for i in batch}) == 9
    assert a.state_dict() == {"epoch": 0, "index": 9}
    next_batch = a.next()
    assert a.state_dict() == {"epoch": 1, "index": 3}
    b = ShuffledBatches(10, 3, seed=5)
    assert [b.next() for _ in range(4)] == [*first_epoch, next_batch]
    c = ShuffledBatches(10, 3, seed=5)
    c.load_state_dict({"epoch": 0, "index": 6})
    assert [c.next(), c.next()] == [first_epoch[2], next_batch]
    assert ShuffledBatches(10, 3, seed=6).next() != first_epoch[0]


def test_ranks_read_disjoint_parts_of_each_global_batch() -> None:
    single = ShuffledBatches(20, 4, seed=1)
    ranks = [ShuffledBatches(20, 2, seed=1, rank=r, world_size=2) for r in range(2)]
    for _ in range(5):
        assert ranks[0].next() + ranks[1].next() == single.next()


def test_too_small_dataset_names_the_sizes() -> None:
    with pytest.raises(ValueError, match="3 items cannot fill one batch of 2 × 2 ranks"):
        ShuffledBatches(3, 2, seed=0, world_size=2)


def test_eval_batches_cover_the_split_once() -> None:
    assert list(eval_batches(7, 3, max_batches=0)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(eval_batches(7, 3, max_batches=2)) == [[0, 1, 2], [3, 4, 5]]
    assert list(eval_batches(7, 2, max_batches=0, rank=1, world_size=2)) == [[2, 3], [6]]


def test_pad_sequences_right_pads() -> None:
    padded = pad_sequences([[1, 2, 3], [4]], 0)
    assert padded.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert pad_sequences([[1], [2, 3]], 0, fill=-100).tolist() == [[1, -100], [2, 3]]
    assert padded.dtype == torch.long
