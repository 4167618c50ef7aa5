"""Pieces every recipe composes: run context, tokenizer and model construction, objectives,
checkpoints and the final export. Recipes stay short lists of these calls."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

from ..config import TrainConfig
from ..data import PackedWindows, TokenStream, build_token_stream, files_fingerprint, record_field, split_records
from ..decoder import DecoderConfig
from ..distributed import DistInfo, barrier, cleanup_distributed, setup_distributed
from ..encoder import EncoderConfig
from ..errors import ConfigError
from ..export import export_model
from ..model import Model, build_model, load_pretrained
from ..objectives import (
    CausalWindows,
    ChatExamples,
    LabeledTexts,
    MaskedWindows,
    Objective,
    causal_lm_loss,
    chat_example,
    classification_loss,
    masked_lm_loss,
)
from ..tokenizer import Tokenizer, gpt2_tokenizer, load_tokenizer, train_bpe
from ..trainer import MetricsCallback, Trainer


@dataclass
class TrainResult:
    """What a finished (or cleanly stopped) run hands back to its caller."""

    output_dir: Path
    metrics: dict[str, float]  # final training loss, tokens seen, and the last validation metrics
    steps: int  # optimizer steps done
    stopped: bool  # True when should_stop ended the run early (a checkpoint was saved)
    checkpoint_dir: Path | None  # the newest checkpoint, if any was written


@dataclass
class Parts:
    """What a training method builds in ``setup``."""

    tokenizer: Tokenizer
    model: Model
    objective: Objective


@dataclass
class RunContext:
    cfg: TrainConfig
    output_dir: Path
    on_metrics: MetricsCallback | None = None
    should_stop: Callable[[], bool] | None = None
    on_checkpoint: Callable[[Path], None] | None = None
    dist: DistInfo = field(init=False)

    def start(self) -> None:
        """Join the process group (under torchrun), create the output directory, seed torch."""
        self.dist = setup_distributed(self.cfg.train.device)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(self.cfg.seed)  # same initial weights on every rank

    def main_first(self, build: Callable[[], object]):
        """Rank 0 builds (and caches) first; the other ranks then read its cache."""
        result = build() if self.dist.is_main else None
        barrier(self.dist)
        return result if self.dist.is_main else build()


BuildFn = Callable[[RunContext, "Path | None"], Parts]
ExportFn = Callable[[RunContext, Parts, dict[str, float]], None]


def export_full_model(ctx: RunContext, parts: Parts, metrics: dict[str, float]) -> None:
    export_model(ctx.output_dir, model=parts.model, tokenizer=parts.tokenizer, cfg=ctx.cfg, metrics=metrics)


class Recipe:
    """``setup / train / save_checkpoint / cleanup`` around one training method.

    The method itself is two functions from its module: ``build`` (tokenizer, model and objective
    from the config) and ``export`` (the output directory). Everything else is the same for all.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        output_dir: Path,
        build: BuildFn,
        export: ExportFn = export_full_model,
        on_metrics: MetricsCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_checkpoint: Callable[[Path], None] | None = None,
    ) -> None:
        self.ctx = RunContext(cfg, Path(output_dir), on_metrics, should_stop, on_checkpoint)
        self.build, self.export = build, export

    def setup(self, resume_from: Path | None = None) -> None:
        """Build tokenizer, model, data and trainer; with ``resume_from``, restore that checkpoint."""
        ctx = self.ctx
        ctx.start()
        self.parts = self.build(ctx, resume_from)
        self.trainer = Trainer(
            ctx.cfg,
            self.parts.model,
            self.parts.objective,
            dist=ctx.dist,
            output_dir=ctx.output_dir,
            on_metrics=ctx.on_metrics,
            should_stop=ctx.should_stop,
        )
        if resume_from is not None:
            self.trainer.load_state(Path(resume_from))

    def train(self) -> TrainResult:
        """Train to the end and export, or stop early on request (a checkpoint, no export)."""
        fit = self.trainer.fit(self.save_checkpoint)
        if not fit.stopped and self.ctx.dist.is_main:
            self.export(self.ctx, self.parts, fit.metrics)
        barrier(self.ctx.dist)
        return TrainResult(self.ctx.output_dir, fit.metrics, fit.steps, fit.stopped, fit.checkpoint_dir)

    def save_checkpoint(self, path: Path) -> None:
        """Trainer state plus the tokenizer (a resumed run must not retrain it) and the config used;
        ``on_checkpoint`` hears of it once every rank has written its part."""
        self.trainer.save_state(path)
        if self.ctx.dist.is_main:
            self.parts.tokenizer.save(path)
            (path / "train_config.yaml").write_text(yaml.safe_dump(self.ctx.cfg.to_dict(), sort_keys=False))
        barrier(self.ctx.dist)
        if self.ctx.dist.is_main and self.ctx.on_checkpoint is not None:
            self.ctx.on_checkpoint(path)

    def cleanup(self) -> None:
        cleanup_distributed()


# ----------------------------------------------------------------------------- tokenizer and model


def build_tokenizer(cfg: TrainConfig, texts: Iterable[str], *, resume_from: Path | None, kind: str) -> Tokenizer:
    """The run's tokenizer: the checkpoint's when resuming, else as ``tokenizer.source`` says."""
    if resume_from is not None:
        return load_tokenizer(resume_from)
    source = cfg.tokenizer.source
    if source == "train":
        return train_bpe(
            texts,
            vocab_size=cfg.tokenizer.vocab_size,
            min_frequency=cfg.tokenizer.min_frequency,
            kind=kind,
            model_max_length=cfg.data.seq_len,
        )
    if source == "gpt2":
        return gpt2_tokenizer()
    return load_tokenizer(cfg.tokenizer.path if source == "file" else cfg.model.path)


def build_run_model(
    cfg: TrainConfig, tokenizer: Tokenizer, *, head: str | None = None, id2label: dict[int, str] | None = None
) -> Model:
    """A new model sized by ``model.*`` and the tokenizer, or the pretrained one at ``model.path``."""
    m = cfg.model
    if m.source == "pretrained":
        model = load_pretrained(m.path, head=head, id2label=id2label)
        if model.config.vocab_size < tokenizer.vocab_size:
            raise ConfigError(
                "tokenizer", f"{tokenizer.vocab_size} tokens exceed the model's {model.config.vocab_size}"
            )
        return _check_context(cfg, model)
    sizes = {
        "vocab_size": tokenizer.vocab_size,
        "hidden_size": m.hidden_size,
        "num_layers": m.num_layers,
        "num_heads": m.num_heads,
        "intermediate_size": m.intermediate_size,
        "max_position_embeddings": m.max_position_embeddings,
        "dropout": m.dropout,
    }
    if m.arch == "bert":
        labels = {"num_labels": len(id2label), "id2label": id2label} if id2label else {}
        cfg_model = EncoderConfig(
            **sizes, attention_dropout=m.dropout, pad_token_id=tokenizer.pad_token_id or 0, head=head or "mlm", **labels
        )
    else:
        cfg_model = DecoderConfig(
            **sizes,
            arch=m.arch,
            num_kv_heads=m.num_kv_heads,
            rope_theta=m.rope_theta,
            tie_word_embeddings=m.tie_word_embeddings,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    return _check_context(cfg, build_model(cfg_model))


def _check_context(cfg: TrainConfig, model: Model) -> Model:
    limit = model.config.max_position_embeddings
    if cfg.data.seq_len > limit:
        raise ConfigError("data.seq_len", f"{cfg.data.seq_len} is longer than the model's context ({limit})")
    return model


# ----------------------------------------------------------------------------- data → objectives


def corpus_records(cfg: TrainConfig) -> dict[str, list[dict]]:
    return split_records(
        Path(cfg.data.path), val_fraction=cfg.data.val_fraction, txt_mode=cfg.data.txt_mode, key=cfg.data.text_field
    )


def corpus_texts(cfg: TrainConfig) -> dict[str, list[str]]:
    """Training and validation documents of a plain-text corpus."""
    records = corpus_records(cfg)
    return {
        split: [record_field(r, cfg.data.text_field, "data.text_field") for r in rows]
        for split, rows in records.items()
    }


def token_streams(
    ctx: RunContext, tokenizer: Tokenizer, texts: dict[str, list[str]], *, separator_id: int | None
) -> dict[str, TokenStream]:
    """Both splits tokenized into cached shards, keyed by everything that decides their content."""
    cfg = ctx.cfg
    cache = Path(cfg.data.cache_dir) if cfg.data.cache_dir else ctx.output_dir / "data_cache"
    settings = {k: v for k, v in dataclasses.asdict(cfg.data).items() if k != "cache_dir"}
    streams = {}
    for split, docs in texts.items():
        key = {
            "files": files_fingerprint(Path(cfg.data.path)),
            "tokenizer": tokenizer.fingerprint(),
            "data": settings,
            "split": split,
            "separator": separator_id,
        }
        fingerprint = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
        directory = cache / f"{split}-{fingerprint[:16]}"
        streams[split] = ctx.main_first(
            lambda docs=docs, directory=directory, fingerprint=fingerprint: build_token_stream(
                docs, tokenizer, directory, fingerprint=fingerprint, separator_id=separator_id
            )
        )
    return streams


def _objective(ctx: RunContext, train, validation, loss, *, uses_generator: bool = False) -> Objective:
    if len(validation) == 0:
        raise ConfigError(
            "data.path", "the validation split is empty (add validation files or raise data.val_fraction)"
        )
    return Objective(
        train,
        validation,
        loss,
        batch_size=ctx.cfg.train.batch_size,
        seed=ctx.cfg.seed,
        dist=ctx.dist,
        max_eval_batches=ctx.cfg.train.eval_batches,
        uses_generator=uses_generator,
    )


def causal_objective(ctx: RunContext, tokenizer: Tokenizer, texts: dict[str, list[str]]) -> Objective:
    """Next-token prediction over packed windows; documents end with eos; validation reports bpb."""
    T = ctx.cfg.data.seq_len
    streams = token_streams(ctx, tokenizer, texts, separator_id=tokenizer.eos_token_id)
    train, val = (CausalWindows(PackedWindows(streams[s], length=T + 1, stride=T)) for s in ("train", "validation"))
    token_bytes = torch.tensor(tokenizer.token_byte_lengths(), dtype=torch.long)
    return _objective(ctx, train, val, causal_lm_loss(token_bytes))


def masked_objective(ctx: RunContext, tokenizer: Tokenizer, texts: dict[str, list[str]]) -> Objective:
    """Masked-LM over packed windows of seq_len − 1 tokens behind [CLS]; documents end with [SEP]."""
    T = ctx.cfg.data.seq_len
    streams = token_streams(ctx, tokenizer, texts, separator_id=tokenizer.sep_token_id)
    train, val = (
        MaskedWindows(PackedWindows(streams[s], length=T - 1, stride=T - 1), tokenizer, ctx.cfg.mlm)
        for s in ("train", "validation")
    )
    return _objective(ctx, train, val, masked_lm_loss, uses_generator=True)


def conversations(cfg: TrainConfig) -> dict[str, list[list[dict[str, str]]]]:
    """Chat records as message lists: a ``messages`` field, or a prompt/completion pair."""
    s = cfg.sft
    out = {}
    for split, rows in corpus_records(cfg).items():
        out[split] = [
            row[s.messages_field]
            if s.messages_field in row
            else [
                {"role": "user", "content": record_field(row, s.prompt_field, "sft.prompt_field")},
                {"role": "assistant", "content": record_field(row, s.completion_field, "sft.completion_field")},
            ]
            for row in rows
        ]
    return out


def chat_objective(ctx: RunContext, tokenizer: Tokenizer, chats: dict[str, list[list[dict[str, str]]]]) -> Objective:
    """Supervised fine-tuning: loss on assistant tokens only; padding with pad (or eos) ids."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    T = ctx.cfg.data.seq_len
    train, val = (ChatExamples([chat_example(c, tokenizer, T) for c in chats[s]], pad) for s in ("train", "validation"))
    return _objective(ctx, train, val, causal_lm_loss(None))


def chat_texts(chats: list[list[dict[str, str]]]) -> list[str]:
    return [m["content"] for chat in chats for m in chat]


def labeled_objective(
    ctx: RunContext, tokenizer: Tokenizer, records: dict[str, list[dict]], label_ids: dict[str, int]
) -> Objective:
    """Sequence classification: [CLS] text [SEP] cut to seq_len tokens, one label id each."""
    c, T = ctx.cfg.classify, ctx.cfg.data.seq_len
    pad = tokenizer.pad_token_id or 0

    def examples(rows):
        out = []
        for row in rows:
            ids = tokenizer.encode(record_field(row, c.text_field, "classify.text_field"), add_special_tokens=True)
            ids = ids if len(ids) <= T else ids[: T - 1] + ids[-1:]  # keep the closing [SEP]
            label = str(record_field(row, c.label_field, "classify.label_field"))
            if label not in label_ids:
                raise ConfigError(
                    "classify.labels", f"label {label!r} is not allowed; allowed values: {list(label_ids)}"
                )
            out.append((ids, label_ids[label]))
        return out

    return _objective(
        ctx,
        LabeledTexts(examples(records["train"]), pad),
        LabeledTexts(examples(records["validation"]), pad),
        classification_loss,
    )
