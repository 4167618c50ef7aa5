"""Adapter for checkpoints of our training core (``training_runner.core``).

The core reads the same ``transformers`` directory layout (config.json + safetensors +
tokenizer.json), so a model trained here can be scored without ``transformers`` installed, and the
two adapters must agree on it. Tokenization mirrors the ``transformers`` adapter: the tokenizer's
post-processor is applied unless the text already starts with the BOS string.
"""

from collections.abc import Sequence
from pathlib import Path

import torch

from evals.harness.adapters.base import LanguageModel, left_padded
from evals.harness.adapters.hf import check_model_dir
from evals.harness.errors import ModelLoadError


class CoreAdapter(LanguageModel):
    """A decoder loaded with ``training_runner.core.model.load_pretrained``."""

    adapter_name = "core"

    def __init__(self, model_dir: str | Path, *, device: str = "cpu", dtype: torch.dtype = torch.float32) -> None:
        try:
            from training_runner.core.decoder import Decoder
            from training_runner.core.model import load_pretrained
            from training_runner.core.tokenizer import load_tokenizer
        except ImportError as exc:
            raise ModelLoadError(f"the training core is not available: {exc}") from exc

        model_dir = Path(model_dir)
        check_model_dir(model_dir)
        try:
            self.tokenizer = load_tokenizer(model_dir)
            self.model = load_pretrained(model_dir, device=device, dtype=dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelLoadError(f"the training core cannot load {model_dir}: {exc}") from exc
        if not isinstance(self.model, Decoder):
            raise ModelLoadError(
                f"{model_dir}: the training core loads it as {type(self.model).__name__}, not as a Decoder"
            )
        self.device = torch.device(device)
        self.dtype = dtype
        self.model.eval()
        self._init_special_tokens()

    @property
    def max_length(self) -> int:
        return int(self.model.config.max_position_embeddings)

    def encode(self, texts: Sequence[str], *, add_special_tokens: bool | None = None) -> list[list[int]]:
        out = []
        for text in texts:
            special = add_special_tokens
            if special is None:  # the transformers default: post-processor on, unless BOS is there
                special = not self.starts_with_bos(text)
            out.append(list(self.tokenizer.encode(text, add_special_tokens=special)))
        return out

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    def forward_logits(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, start: int, end: int
    ) -> torch.Tensor:
        with torch.inference_mode():
            output = self.model(input_ids.to(self.device), attention_mask.to(self.device))
        logits = getattr(output, "logits", output)  # (B, T, V)
        return logits[:, start:end]

    def forward_hidden(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        head = self.model.lm_head
        if type(head) is not torch.nn.Linear or head.bias is not None:
            return None
        with torch.inference_mode():
            hidden = self.model(input_ids.to(self.device), attention_mask.to(self.device), hidden_only=True)
        return hidden, head.weight.detach()  # (B, T, C), (V, C)

    def generate_tokens(
        self, prompts: Sequence[list[int]], *, length: int, max_new_tokens: int, stop: Sequence[str]
    ) -> list[list[int]]:
        from training_runner.core.generate import generate

        # The core's generate has no stop strings: it runs to eos or the budget and the caller cuts.
        input_ids, attention_mask = left_padded(prompts, length, self.pad_token_id)
        with torch.inference_mode():
            output = generate(
                self.model,
                input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                max_new_tokens=max_new_tokens,
                temperature=0.0,
                eos_token_id=self.eos_token_id,
            )
        return [row[length:].tolist() for row in output.cpu()]
