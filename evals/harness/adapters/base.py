"""The model interface the harness scores against, and the token-level scoring shared by adapters.

An adapter supplies a tokenizer (``encode``/``decode``, the prefix token, the context length), a
forward pass that returns logits for a range of positions (or, through ``forward_hidden``, the
final hidden states and the output head, which scoring then applies only to the positions it
scores, a few at a time), and greedy generation. Everything that decides the numbers lives here,
once, for every back-end:

- ``loglikelihood(context, continuation)``: ``context + continuation`` is encoded as one string and
  split at ``len(encode(context))``, after moving the context's trailing whitespace onto the
  continuation; an empty context is replaced by the prefix token. The input is the last
  ``max_length + 1`` tokens minus the last one (left truncation).
- ``loglikelihood_rolling(text)``: disjoint windows of ``max_length`` predicted tokens; the first
  window starts with the prefix token, later ones are filled up to ``max_length`` with the tokens
  before them. Window log-likelihoods are summed in order.
- Log-probabilities come from an fp32 log-softmax; each request's sum is an fp32 sum, as in
  lm-evaluation-harness, so results agree with it to float precision.

Batch-size invariance: requests are sorted by length and batched only with requests of the same
padded length (the length rounded up to a multiple of ``PAD_MULTIPLE``), right-padded with an
attention mask, and the output projection always sees at least ``MIN_LOGIT_ROWS`` positions per
row. Each row therefore goes through the same shapes whatever the batch size, which on CPU makes
per-item results bitwise independent of batch size and of which items share a batch. (BLAS picks
other kernels for matrices with very few rows; on GPUs kernel choice may still vary with the batch
and results then agree to float precision only.) Requests with identical inputs share one row.
Requests whose inputs are the same up to their first scored token (the choices after one
multiple-choice context) share that prefix where the adapter supports it (``shares_prefixes``):
the prefix runs through the model once and each request's remaining inputs run after it on its
keys and values. Those batches group prefixes of the same padded prefix and padded suffix
lengths, so they are batch-size invariant too; their floats agree with whole rows (and with
lm-evaluation-harness) to rounding, not bit for bit. Rolling windows are never shared.
Greedy generation pads prompts the same way (on the left); its decoding steps run one token per
row, where BLAS kernels do vary with the batch, so generations agree across batch sizes unless two
candidate tokens tie to within float rounding.
"""

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from evals.harness.adapters.projection import MIN_LOGIT_ROWS, Piece, pick, pick_projected, piece_rows, project_pieces
from evals.harness.errors import EvalError, ModelLoadError

PAD_MULTIPLE = 16

ProgressFn = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch."""
Padded = tuple[torch.Tensor, torch.Tensor]  # right-padded (B, T) input ids and attention mask


@dataclass(frozen=True)
class LoglikelihoodResult:
    logprob: float
    is_greedy: bool


@dataclass(frozen=True)
class GenerationRequest:
    context: str
    until: tuple[str, ...]
    max_gen_toks: int


@dataclass(frozen=True)
class _Unit:
    """Score ``targets``, predicted by the last ``len(targets)`` positions of ``inputs``."""

    inputs: tuple[int, ...]
    targets: tuple[int, ...]


class LanguageModel(ABC):
    """A causal language model as the harness sees it.

    Subclasses load ``model`` and ``tokenizer``, call :meth:`_init_special_tokens`, and implement
    the abstract methods below; scoring itself is shared.
    """

    model: Any
    tokenizer: Any
    dtype: torch.dtype
    adapter_name: str

    def _init_special_tokens(self) -> None:
        """Prefix token = BOS, else EOS (as lm-evaluation-harness); padding uses pad, else the prefix.

        Reads ``bos_token_id`` / ``eos_token_id`` / ``pad_token_id`` and ``decode`` (special
        tokens kept), which both the ``transformers`` and the core tokenizers provide.
        """
        bos, eos, pad = self.tokenizer.bos_token_id, self.tokenizer.eos_token_id, self.tokenizer.pad_token_id
        if bos is None and eos is None:
            raise ModelLoadError("the tokenizer has neither a BOS nor an EOS token")
        self._prefix: int = bos if bos is not None else eos
        self._eos: int | None = eos
        self._pad: int = pad if pad is not None else self._prefix
        self._bos_text: str = self.tokenizer.decode([self._prefix])

    @property
    def prefix_token_id(self) -> int:
        """Token standing in for an empty context (BOS, else EOS)."""
        return self._prefix

    @property
    def eos_token_id(self) -> int | None:
        return self._eos

    @property
    def pad_token_id(self) -> int:
        """Token written into padded positions (masked, so any valid id works)."""
        return self._pad

    def starts_with_bos(self, text: str) -> bool:
        """True if ``text`` already begins with the BOS string (then no special tokens are added)."""
        return bool(self._bos_text) and text.startswith(self._bos_text)

    def describe(self) -> dict[str, Any]:
        """What the results record about the loaded model."""
        config = self.model.config
        return {
            "adapter": self.adapter_name,
            "architecture": type(self.model).__name__,
            "model_type": getattr(config, "model_type", None) or getattr(config, "arch", None),
            "dtype": str(self.dtype).removeprefix("torch."),
            "max_length": self.max_length,
            "prefix_token_id": self.prefix_token_id,
            "eos_token_id": self.eos_token_id,
            "vocab_size": getattr(config, "vocab_size", None),
            "num_parameters": sum(p.numel() for p in self.model.parameters()),
            "tokenizer_class": type(self.tokenizer).__name__,
        }

    # --- provided by each adapter -------------------------------------------------------------

    @property
    @abstractmethod
    def max_length(self) -> int:
        """Longest input, in tokens."""

    @abstractmethod
    def encode(self, texts: Sequence[str], *, add_special_tokens: bool | None = None) -> list[list[int]]:
        """Token ids of each text; ``None`` uses the tokenizer's own default."""

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str: ...

    @abstractmethod
    def forward_logits(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, start: int, end: int
    ) -> torch.Tensor:
        """Logits (B, end - start, V) at positions ``start..end-1`` of right-padded (B, T) inputs."""

    def forward_hidden(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Final hidden states (B, T, C) and the output head's weight (V, C), or None.

        An adapter returns them when its logits are exactly ``hidden @ weight.T`` (same matmul):
        scoring then projects only the positions it scores, a piece at a time, instead of holding
        (B, T, V) logits. None: scoring uses :meth:`forward_logits`.
        """
        return None

    @property
    def shares_prefixes(self) -> bool:
        """True if :meth:`forward_hidden_continued` is implemented for this model."""
        return False

    def forward_hidden_continued(self, prefix: Padded, suffix: Padded, owners: torch.Tensor, starts: torch.Tensor):
        """Final hidden states of right-padded prefixes (P, Tp, C), of right-padded suffixes
        (S, Ts, C) where suffix ``j`` continues prefix ``owners[j]`` from position ``starts[j]``
        (the prefix's length) reading its keys and values, and the output head's weight (V, C).
        ``prefix`` and ``suffix`` are (input ids, attention mask) pairs.

        Only called when :attr:`shares_prefixes` is true (same contract as :meth:`forward_hidden`).
        """
        raise NotImplementedError

    @abstractmethod
    def generate_tokens(
        self, prompts: Sequence[list[int]], *, length: int, max_new_tokens: int, stop: Sequence[str]
    ) -> list[list[int]]:
        """Greedy continuations (new tokens only) of prompts left-padded to ``length`` tokens.

        ``length`` depends only on each prompt's own length, so a prompt sees the same padding
        whatever else is in its batch. Generation may stop early once every row contains a stop
        string; tokens after the stop are discarded by the caller.
        """

    # --- shared scoring -----------------------------------------------------------------------

    def loglikelihood(
        self, pairs: Sequence[tuple[str, str]], *, batch_size: int, progress: ProgressFn | None = None
    ) -> list[LoglikelihoodResult]:
        """Log-likelihood of each continuation given its context, and whether it is greedy."""
        return self._score(self._encode_pairs(pairs), batch_size=batch_size, progress=progress, greedy=True)

    def loglikelihood_rolling(
        self, texts: Sequence[str], *, batch_size: int, progress: ProgressFn | None = None
    ) -> list[float]:
        """Log-likelihood of each whole text, scored in windows of ``max_length`` tokens."""
        units: list[_Unit] = []
        owners: list[int] = []
        for index, tokens in enumerate(self.encode(texts)):
            for unit in rolling_windows(tokens, prefix_token=self.prefix_token_id, max_length=self.max_length):
                units.append(unit)
                owners.append(index)
        totals = [0.0] * len(texts)
        scored = self._score(units, batch_size=batch_size, progress=progress, greedy=False)
        for owner, result in zip(owners, scored, strict=True):
            totals[owner] += result.logprob
        return totals

    def generate_until(
        self, requests: Sequence[GenerationRequest], *, batch_size: int, progress: ProgressFn | None = None
    ) -> list[str]:
        """Greedy continuations, cut before the first stop string."""
        encoded = []
        for request, tokens in zip(requests, self.encode([r.context for r in requests]), strict=True):
            budget = self.max_length - request.max_gen_toks
            if budget < 1:
                raise EvalError(
                    f"max_gen_toks={request.max_gen_toks} leaves no room in a {self.max_length}-token context"
                )
            encoded.append((tokens or [self.prefix_token_id])[-budget:])

        def batch_key(i: int) -> tuple[int, tuple[str, ...], int]:
            return (_padded(len(encoded[i]), self.max_length), requests[i].until, requests[i].max_gen_toks)

        order = sorted(
            range(len(requests)), key=lambda i: (-batch_key(i)[0], batch_key(i)[1:], -len(encoded[i]), encoded[i])
        )
        outputs: list[str] = [""] * len(requests)
        done = 0
        for batch in _batches(order, key=batch_key, size=batch_size):
            length, until, max_gen_toks = batch_key(batch[0])
            new_tokens = self.generate_tokens(
                [encoded[i] for i in batch], length=length, max_new_tokens=max_gen_toks, stop=until
            )
            for i, tokens in zip(batch, new_tokens, strict=True):
                outputs[i] = cut_at_stop(self.decode(_until_eos(tokens, self.eos_token_id)), until)
            done += len(batch)
            if progress is not None:
                progress(done, len(requests))
        return outputs

    def _encode_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[_Unit]:
        split_pairs = [_move_trailing_whitespace(context, continuation) for context, continuation in pairs]
        with_context = sorted({context for context, _ in split_pairs if context})
        context_tokens = dict(zip(with_context, self.encode(with_context), strict=True))
        whole_texts = [context + continuation for context, continuation in split_pairs if context]
        whole_tokens = iter(self.encode(whole_texts))
        bare = [continuation for context, continuation in split_pairs if not context]
        bare_tokens = iter(self.encode(bare, add_special_tokens=False))
        units = []
        for (context, continuation), (original_context, _) in zip(split_pairs, pairs, strict=True):
            if context:
                ctx = context_tokens[context]
                cont = next(whole_tokens)[len(ctx) :]
            else:
                cont = next(bare_tokens)
                ctx = [self.prefix_token_id]
                if cont and cont[0] == self.prefix_token_id:
                    ctx, cont = cont[:1], cont[1:]
            if not cont:
                raise EvalError(
                    f"continuation {continuation!r} (context {original_context[-40:]!r}) encodes to no tokens"
                )
            if len(cont) > self.max_length:
                raise EvalError(
                    f"a continuation of {len(cont)} tokens exceeds the model's {self.max_length}-token context"
                )
            units.append(_Unit(tuple((ctx + cont)[-(self.max_length + 1) : -1]), tuple(cont)))
        return units

    def _score(
        self, units: Sequence[_Unit], *, batch_size: int, progress: ProgressFn | None, greedy: bool
    ) -> list[LoglikelihoodResult]:
        """Score ``units``; without ``greedy`` every ``is_greedy`` is False (not computed)."""
        if batch_size < 1:
            raise EvalError(f"batch size must be >= 1, got {batch_size}")
        by_input: dict[tuple[int, ...], list[int]] = {}
        for index, unit in enumerate(units):
            by_input.setdefault(unit.inputs, []).append(index)
        rows = sorted(by_input, key=lambda inputs: (-len(inputs), inputs))
        groups = _prefix_groups(rows, by_input, units) if greedy and self.shares_prefixes else {}
        grouped = {inputs for members in groups.values() for inputs in members}
        results: list[LoglikelihoodResult | None] = [None] * len(units)
        done = 0

        def record(batch_rows: list[tuple[int, ...]], scored: list[list[LoglikelihoodResult]]) -> None:
            nonlocal done
            for inputs, row_results in zip(batch_rows, scored, strict=True):
                for index, result in zip(by_input[inputs], row_results, strict=True):
                    results[index] = result
                done += len(row_results)
            if progress is not None:
                progress(done, len(units))

        alone = [inputs for inputs in rows if inputs not in grouped]
        for batch in _batches(alone, key=lambda inputs: _padded(len(inputs), self.max_length), size=batch_size):
            members = [[units[i] for i in by_input[inputs]] for inputs in batch]
            record(batch, self._score_batch(batch, members, greedy=greedy))

        def shared_key(prefix: tuple[int, ...]) -> tuple[int, int]:
            longest = max(len(inputs) - len(prefix) for inputs in groups[prefix])
            return _padded(len(prefix), self.max_length), _padded(longest, self.max_length)

        prefixes = sorted(groups, key=lambda prefix: (tuple(-n for n in shared_key(prefix)), prefix))
        for batch in _batches(prefixes, key=shared_key, size=batch_size):
            batch_rows = [inputs for prefix in batch for inputs in groups[prefix]]
            members = [[units[i] for i in by_input[inputs]] for inputs in batch_rows]
            record(batch_rows, self._score_shared_batch(batch, [groups[prefix] for prefix in batch], members))
        assert all(result is not None for result in results)
        return results  # type: ignore[return-value]

    def _score_batch(
        self, batch: list[tuple[int, ...]], members: list[list[_Unit]], *, greedy: bool
    ) -> list[list[LoglikelihoodResult]]:
        length = _padded(len(batch[0]), self.max_length)
        input_ids, attention_mask = _right_padded(batch, length, self.pad_token_id)
        spans = [
            (len(inputs) - max(len(unit.targets) for unit in units), len(inputs))
            for inputs, units in zip(batch, members, strict=True)
        ]
        # The token each position predicts: the next input, and after the last input the first
        # unit's last target (units sharing a row differ at most there).
        row_targets = [
            torch.tensor((*inputs[first + 1 : last], units[0].targets[-1]), dtype=torch.long)
            for inputs, (first, last), units in zip(batch, spans, members, strict=True)
        ]
        head = self.forward_hidden(input_ids, attention_mask)
        if head is None:
            start, end = _logit_window(spans, length)
            logits = self.forward_logits(input_ids, attention_mask, start, end)  # (B, end - start, V)
            picks = [
                pick(logits[row, first - start : last - start], targets, greedy=greedy)
                for row, ((first, last), targets) in enumerate(zip(spans, row_targets, strict=True))
            ]
        else:
            picks = pick_projected(*head, spans, length, row_targets, greedy=greedy)
        return _unit_results(picks, row_targets, members, greedy=greedy)

    def _score_shared_batch(
        self, prefixes: list[tuple[int, ...]], groups: list[list[tuple[int, ...]]], members: list[list[_Unit]]
    ) -> list[list[LoglikelihoodResult]]:
        """Score the rows of ``groups`` (rows that start with ``prefixes[i]``, in order): each prefix
        runs through the model once, and the rest of each row (its suffix) runs after it, reading
        the prefix's keys and values (:meth:`forward_hidden_continued`)."""
        prefix_length = _padded(len(prefixes[0]), self.max_length)
        suffixes = [
            (i, inputs[len(prefix) :])
            for i, (prefix, rows) in enumerate(zip(prefixes, groups, strict=True))
            for inputs in rows
            if len(inputs) > len(prefix)
        ]
        suffix_length = _padded(max(len(suffix) for _, suffix in suffixes), self.max_length)
        owners = torch.tensor([i for i, _ in suffixes], dtype=torch.long)
        starts = torch.tensor([len(prefixes[i]) for i, _ in suffixes], dtype=torch.long)
        prefix_hidden, suffix_hidden, weight = self.forward_hidden_continued(
            _right_padded(prefixes, prefix_length, self.pad_token_id),
            _right_padded([suffix for _, suffix in suffixes], suffix_length, self.pad_token_id),
            owners,
            starts,
        )
        size = piece_rows(weight)
        pieces, row_targets, row, suffix_row = [], [], 0, 0
        for i, (prefix, rows) in enumerate(zip(prefixes, groups, strict=True)):
            for inputs, units in zip(rows, members[row : row + len(rows)], strict=True):
                # Position len(prefix) - 1 predicts the first scored token, the suffix the rest.
                hidden = prefix_hidden[i, len(prefix) - 1 : len(prefix)]
                if len(inputs) > len(prefix):
                    hidden = torch.cat((hidden, suffix_hidden[suffix_row, : len(inputs) - len(prefix)]))
                    suffix_row += 1
                targets = torch.tensor((*inputs[len(prefix) :], units[0].targets[-1]), dtype=torch.long)
                row_targets.append(targets)
                for a in range(0, hidden.shape[0], size):
                    b = min(a + size, hidden.shape[0])
                    pieces.append(Piece(row, hidden[a:b], 0, b - a, targets[a:b], b == hidden.shape[0]))
                row += 1
        picks = project_pieces(weight, pieces, row, greedy=True)
        return _unit_results(picks, row_targets, members, greedy=True)


def _unit_results(picks, row_targets, members: list[list[_Unit]], *, greedy: bool) -> list[list[LoglikelihoodResult]]:
    """Each unit's result from its row's picks: the last ``len(targets)`` log-probabilities."""
    out = []
    for (picked, final, top), targets, units in zip(picks, row_targets, members, strict=True):
        row_results = []
        for unit in units:
            n = len(unit.targets)
            values = picked[-n:]  # (n,) fp32, summed as one tensor like lm-eval
            if unit.targets[-1] != targets[-1]:
                values = torch.cat((values[:-1], final[unit.targets[-1]].reshape(1)))
            is_greedy = greedy and bool(torch.equal(top[-n:], torch.tensor(unit.targets, dtype=torch.long)))
            row_results.append(LoglikelihoodResult(float(values.sum()), is_greedy))
        out.append(row_results)
    return out


def _prefix_groups(
    rows: Sequence[tuple[int, ...]], by_input: dict[tuple[int, ...], list[int]], units: Sequence[_Unit]
) -> dict[tuple[int, ...], list[tuple[int, ...]]]:
    """Rows that share the prefix before their first scored position, where two or more do (the
    choices of one multiple-choice context): prefix -> its rows, in ``rows`` order."""
    groups: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for inputs in rows:
        scored = max(len(units[i].targets) for i in by_input[inputs])
        groups.setdefault(inputs[: len(inputs) - scored + 1], []).append(inputs)
    return {prefix: members for prefix, members in groups.items() if len(members) > 1}


def _right_padded(rows: Sequence[Sequence[int]], length: int, pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, length) input ids and attention mask with every row left-aligned."""
    input_ids = torch.full((len(rows), length), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), length), dtype=torch.long)
    for row, tokens in enumerate(rows):
        input_ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        attention_mask[row, : len(tokens)] = 1
    return input_ids, attention_mask


def left_padded(prompts: Sequence[Sequence[int]], length: int, pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, length) input ids and attention mask with every prompt right-aligned (for generation)."""
    input_ids = torch.full((len(prompts), length), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), length), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, length - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        attention_mask[row, length - len(prompt) :] = 1
    return input_ids, attention_mask


def rolling_windows(tokens: Sequence[int], *, prefix_token: int, max_length: int) -> Iterator[_Unit]:
    """Disjoint prediction windows covering ``tokens``; see the module docstring."""
    padded = [prefix_token, *tokens]  # padded[j] predicts tokens[j]
    start = 0
    while start < len(tokens):
        end = min(start + max_length, len(tokens))
        yield _Unit(tuple(padded[max(0, end - max_length) : end]), tuple(tokens[start:end]))
        start = end


def cut_at_stop(text: str, until: Sequence[str]) -> str:
    """``text`` up to (not including) the earliest stop string."""
    cut = len(text)
    for stop in until:
        position = text.find(stop)
        if position != -1:
            cut = min(cut, position)
    return text[:cut]


def _until_eos(tokens: Sequence[int], eos_token_id: int | None) -> list[int]:
    tokens = list(tokens)
    if eos_token_id is not None and eos_token_id in tokens:
        return tokens[: tokens.index(eos_token_id)]
    return tokens


def _move_trailing_whitespace(context: str, continuation: str) -> tuple[str, str]:
    """Trailing whitespace of the context belongs to the continuation (honest BPE merges)."""
    stripped = context.rstrip()
    return stripped, context[len(stripped) :] + continuation


def _padded(length: int, max_length: int) -> int:
    return min(max_length, math.ceil(length / PAD_MULTIPLE) * PAD_MULTIPLE)


def _logit_window(spans: Sequence[tuple[int, int]], length: int) -> tuple[int, int]:
    """Positions whose logits the batch needs, widened to at least ``MIN_LOGIT_ROWS``."""
    start = min(first for first, _ in spans)
    end = max(last for _, last in spans)
    if end - start < MIN_LOGIT_ROWS:
        start = max(0, end - MIN_LOGIT_ROWS)
        end = min(length, start + MIN_LOGIT_ROWS)
    return start, end


def _batches(ordered: Sequence[Any], *, key: Callable[[Any], Any], size: int) -> Iterator[list[Any]]:
    """Consecutive runs of equal ``key``, cut every ``size`` elements."""
    batch: list[Any] = []
    batch_key = None
    for element in ordered:
        element_key = key(element)
        if batch and (element_key != batch_key or len(batch) == size):
            yield batch
            batch = []
        batch_key = element_key
        batch.append(element)
    if batch:
        yield batch
