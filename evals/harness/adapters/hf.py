"""Adapter for causal LMs saved in the ``transformers`` format (config + safetensors + tokenizer).

Loading is local and safe: no network, no remote code, safetensors weights only (never a pickle).
Tokenization follows lm-evaluation-harness's ``hf`` back-end: the tokenizer's own default for
special tokens, except that a text already starting with the BOS string gets none added.
"""

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from evals.harness.adapters.base import LanguageModel, Padded, left_padded
from evals.harness.errors import ModelLoadError

DEFAULT_MAX_LENGTH = 2048
# transformers' "no limit" value for tokenizer.model_max_length.
_TOKENIZER_UNLIMITED = int(1e30)
_LENGTH_ATTRS = ("n_positions", "max_position_embeddings", "n_ctx")
# Model types whose logits are the plain output head applied to the base model's last hidden
# state (no scaling, soft-capping or bias): the harness may project the hidden states itself.
PLAIN_HEAD_MODEL_TYPES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gpt2", "gpt_neox"})
# Model types whose base model continues a batch from a cache of keys and values with explicit
# position ids and a padding mask over cache and new tokens (checked against whole rows in tests).
SHARED_PREFIX_MODEL_TYPES = frozenset({"llama", "gpt2"})


class TransformersAdapter(LanguageModel):
    """A ``transformers`` ``AutoModelForCausalLM`` and its ``AutoTokenizer`` from one directory."""

    adapter_name = "transformers"

    def __init__(self, model_dir: str | Path, *, device: str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model_dir = Path(model_dir)
        check_model_dir(model_dir)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True, trust_remote_code=False)
            self.model, loading = AutoModelForCausalLM.from_pretrained(
                model_dir,
                dtype=dtype,
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True,
                output_loading_info=True,
            )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"cannot load a transformers causal LM from {model_dir}: {exc}") from exc
        # transformers fills missing weights with random values and carries on (e.g. a BERT
        # encoder loaded as BertLMHeadModel); scores of such a model would be noise.
        incomplete = sorted(loading["missing_keys"]) + sorted(str(key) for key in loading["mismatched_keys"])
        if incomplete:
            raise ModelLoadError(
                f"{model_dir} is not a complete {type(self.model).__name__}: "
                f"missing or mismatched weights {', '.join(incomplete[:5])}{' ...' if len(incomplete) > 5 else ''}"
            )
        self.device = torch.device(device)
        self.dtype = dtype
        self.model.to(self.device).eval()
        self._keeps_logits = "logits_to_keep" in inspect.signature(self.model.forward).parameters
        self._head = _plain_output_head(self.model)
        self._max_length = _resolve_max_length(self.model.config, self.tokenizer)
        self._init_special_tokens()

    @property
    def max_length(self) -> int:
        return self._max_length

    def encode(self, texts: Sequence[str], *, add_special_tokens: bool | None = None) -> list[list[int]]:
        if not texts:
            return []
        if add_special_tokens is not None:
            return self._encode_batch(texts, add_special_tokens)
        # A text that already starts with the BOS string must not get a second one.
        prefixed = [self.starts_with_bos(text) for text in texts]
        out: list[list[int]] = [[] for _ in texts]
        for flag in (True, False):
            indices = [i for i, is_prefixed in enumerate(prefixed) if is_prefixed == flag]
            if indices:
                encoded = self._encode_batch([texts[i] for i in indices], False if flag else None)
                for i, ids in zip(indices, encoded, strict=True):
                    out[i] = ids
        return out

    def _encode_batch(self, texts: Sequence[str], add_special_tokens: bool | None) -> list[list[int]]:
        kwargs = {} if add_special_tokens is None else {"add_special_tokens": add_special_tokens}
        return [list(ids) for ids in self.tokenizer(list(texts), **kwargs)["input_ids"]]

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def forward_logits(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, start: int, end: int
    ) -> torch.Tensor:
        kwargs: dict[str, Any] = {}
        if self._keeps_logits:
            kwargs["logits_to_keep"] = torch.arange(start, end, device=self.device)
        with torch.inference_mode():
            logits = self.model(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                use_cache=False,
                **kwargs,
            ).logits
        return logits if self._keeps_logits else logits[:, start:end]

    def forward_hidden(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        if self._head is None:
            return None
        with torch.inference_mode():
            hidden = self.model.base_model(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device), use_cache=False
            ).last_hidden_state  # (B, T, C)
        return hidden, self._head.detach()

    @property
    def shares_prefixes(self) -> bool:
        return self._head is not None and getattr(self.model.config, "model_type", None) in SHARED_PREFIX_MODEL_TYPES

    def forward_hidden_continued(self, prefix: Padded, suffix: Padded, owners: torch.Tensor, starts: torch.Tensor):
        assert self._head is not None
        (prefix_ids, prefix_mask), (suffix_ids, suffix_mask) = prefix, suffix
        body = self.model.base_model
        # Padded suffix positions are masked and never scored; keep their ids inside the table.
        positions = (starts[:, None] + torch.arange(suffix_ids.shape[1])).clamp(max=self.max_length - 1)
        with torch.inference_mode():
            first = body(
                input_ids=prefix_ids.to(self.device), attention_mask=prefix_mask.to(self.device), use_cache=True
            )
            cache = first.past_key_values
            cache.batch_select_indices(owners.to(self.device))  # one copy of its prefix's cache per suffix
            hidden = body(
                input_ids=suffix_ids.to(self.device),
                attention_mask=torch.cat((prefix_mask[owners], suffix_mask), dim=1).to(self.device),
                position_ids=positions.to(self.device),
                past_key_values=cache,
                use_cache=True,
            ).last_hidden_state
        return first.last_hidden_state, hidden, self._head.detach()

    def generate_tokens(
        self, prompts: Sequence[list[int]], *, length: int, max_new_tokens: int, stop: Sequence[str]
    ) -> list[list[int]]:
        from transformers import GenerationConfig

        input_ids, attention_mask = left_padded(prompts, length, self.pad_token_id)
        config = GenerationConfig(
            do_sample=False,
            num_beams=1,
            max_new_tokens=max_new_tokens,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.eos_token_id,
            stop_strings=list(stop) or None,
        )
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                generation_config=config,
                tokenizer=self.tokenizer,
            )
        return [row[length:].tolist() for row in output.cpu()]


def check_model_dir(model_dir: Path) -> None:
    """Refuse directories without a config or without safetensors weights, before loading."""
    if not model_dir.is_dir():
        raise ModelLoadError(f"model directory {model_dir} does not exist")
    if not (model_dir / "config.json").is_file():
        raise ModelLoadError(f"{model_dir} has no config.json")
    if not any(model_dir.glob("*.safetensors")):
        raise ModelLoadError(f"{model_dir} has no .safetensors weights (pickled checkpoints are not loaded)")


def _plain_output_head(model: Any) -> torch.Tensor | None:
    """The output head's weight (V, C) when the logits are ``base_model(...) @ weight.T``, else None."""
    head = model.get_output_embeddings()
    if getattr(model.config, "model_type", None) not in PLAIN_HEAD_MODEL_TYPES or model.base_model is model:
        return None
    if type(head) is not torch.nn.Linear or head.bias is not None:
        return None
    return head.weight


def _resolve_max_length(config: Any, tokenizer: Any) -> int:
    """Context length: the config's position limit, else the tokenizer's, else 2048."""
    source = getattr(config, "text_config", None) or config
    for attr in _LENGTH_ATTRS:
        value = getattr(source, attr, None)
        if value is not None:
            return int(value)
    limit = getattr(tokenizer, "model_max_length", None)
    if limit is not None and limit < _TOKENIZER_UNLIMITED:
        return int(limit)
    return DEFAULT_MAX_LENGTH
