"""Beam search over the decoder with the KV cache, with the rules ``transformers`` uses, so the same
weights and prompt give the same sequence:

- every step scores each beam's continuations by accumulated log-probability (fp32 log-softmax)
  and keeps the best ``K = max(2, 1 + #eos) · num_beams`` candidates over all beams;
- a candidate ending in an eos id, or reaching the length limit, is *finished*: it enters the
  finished hypotheses (score / generated_length ** length_penalty) only when it ranks among the
  first ``num_beams`` candidates; the best ``num_beams`` unfinished candidates continue;
- the search ends when no candidate may continue, when every slot holds a finished hypothesis and
  ``early_stopping`` is True, or when the best running beam can no longer beat the worst finished
  hypothesis (scored at its current length, or at the maximum length for ``early_stopping="never"``
  with a positive length penalty).

Shapes: N beams, K candidates, L = prompt + new tokens, V vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .decoder import Decoder
from .generate import apply_repetition_penalty

NEG = -1.0e9  # the "impossible" score: large, finite, so sums stay ordered


@dataclass(frozen=True)
class Hypothesis:
    """A finished beam: its new token ids (eos included when it ended on one) and its score."""

    tokens: list[int]
    score: float


@torch.no_grad()
def beam_search(
    model: Decoder,
    input_ids: torch.Tensor | Sequence[int],
    *,
    num_beams: int,
    max_new_tokens: int,
    eos_token_id: int | Sequence[int] | None = None,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
    repetition_penalty: float = 1.0,
    num_return_sequences: int = 1,
) -> list[Hypothesis]:
    """The ``num_return_sequences`` best hypotheses for one prompt (T,) or (1, T), best first."""
    if num_beams < 1 or not 1 <= num_return_sequences <= num_beams:
        raise ValueError("need num_beams >= 1 and 1 <= num_return_sequences <= num_beams")
    device = model.embed_tokens.weight.device
    prompt = torch.as_tensor(input_ids, dtype=torch.long, device=device).reshape(1, -1)  # (1, T)
    T = prompt.shape[1]
    budget = min(max_new_tokens, model.config.max_position_embeddings - T)
    if budget <= 0:
        return [Hypothesis(tokens=[], score=0.0)] * num_return_sequences
    eos_ids = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])
    eos = torch.tensor(eos_ids, dtype=torch.long, device=device)
    N, L = num_beams, T + budget
    K = max(2, 1 + len(eos_ids)) * N
    among_first_n = torch.arange(K, device=device) < N  # (K,)

    running = torch.zeros(N, L, dtype=torch.long, device=device)  # (N, L)
    running[:, :T] = prompt
    running_scores = torch.full((N,), NEG, device=device)
    running_scores[0] = 0.0  # one live beam at first, so the beams do not start as copies
    done_seqs, done_scores = running.clone(), torch.full((N,), NEG, device=device)
    done_lengths = torch.zeros(N, dtype=torch.long, device=device)
    done_flags = torch.zeros(N, dtype=torch.bool, device=device)
    improvable = True

    was_training = model.training
    model.eval()
    try:
        cache = model.new_kv_cache(N, L)
        logits = model(running[:, :T], kv_cache=cache, last_only=True)[:, -1]  # (N, V)
        cur = T
        while True:
            log_probs = F.log_softmax(logits.float(), dim=-1)  # (N, V)
            log_probs = apply_repetition_penalty(log_probs, running[:, :cur], repetition_penalty)
            V = log_probs.shape[-1]
            totals = (log_probs + running_scores[:, None]).reshape(-1)  # (N·V,)
            top_scores, top_index = torch.topk(totals, K)  # (K,) best first
            parents, tokens = top_index // V, top_index % V
            candidates = running[parents]  # (K, L)
            candidates[:, cur] = tokens
            ends = torch.isin(tokens, eos) | (cur + 1 >= L)  # (K,)

            # The best N candidates that go on.
            alive_scores = top_scores + ends.float() * NEG
            keep = torch.topk(alive_scores, N).indices
            running, running_scores, chosen_parents = candidates[keep], alive_scores[keep], parents[keep]

            # Finished candidates among the first N join the finished hypotheses if they rank.
            generated = cur + 1 - T
            final_scores = top_scores / (generated**length_penalty)
            final_scores += float(bool(done_flags.all()) and early_stopping is True) * NEG
            final_scores += float(not improvable) * NEG
            just_finished = ends & among_first_n
            final_scores += (~just_finished).float() * NEG
            merged = torch.topk(torch.cat([done_scores, final_scores]), N).indices
            done_seqs = torch.cat([done_seqs, candidates])[merged]
            done_scores = torch.cat([done_scores, final_scores])[merged]
            done_flags = torch.cat([done_flags, just_finished])[merged]
            done_lengths = torch.cat([done_lengths, torch.full((K,), generated, device=device)])[merged]

            cache.reorder(chosen_parents)
            cur += 1
            best_length = (L - T) if early_stopping == "never" and length_penalty > 0.0 else (cur - T)
            best_possible = running_scores[0] / (best_length**length_penalty)
            worst_done = torch.where(done_flags, done_scores.min(), torch.full_like(done_scores, NEG))
            improvable = improvable and bool((best_possible > worst_done).any())
            all_done_early = bool(done_flags.all()) and early_stopping is True
            if not improvable or all_done_early or bool(ends.all()):
                break
            logits = model(running[:, cur - 1 : cur], kv_cache=cache)[:, -1]  # (N, V)
    finally:
        model.train(was_training)
    return [
        Hypothesis(tokens=done_seqs[i, T : T + int(done_lengths[i])].tolist(), score=float(done_scores[i]))
        for i in range(num_return_sequences)
    ]
