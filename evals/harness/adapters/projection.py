"""Scoring on the output-head path: the final hidden states of the positions a batch scores are
projected onto the vocabulary in pieces, a piece of several rows in one matmul, and each piece's
log-softmax is taken while it is in cache; the (B, T, V) logits are never held. Every piece has at
least ``MIN_LOGIT_ROWS`` positions, so each float is the one the full-logits path gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

MIN_LOGIT_ROWS = 16
LOGITS_PER_PIECE = 1 << 23  # float32 logits projected at once on the output-head path (32 MiB)


def pick(logits: torch.Tensor, targets: torch.Tensor, *, greedy: bool):
    """From ``logits`` (k, V): the fp32 log-probabilities of ``targets`` (k,), the last position's
    log-probabilities (V,), and the argmax tokens (k,) when ``greedy`` (else None); all on the CPU."""
    picked, logprobs, top = pick_rows(logits, targets, greedy=greedy)
    return picked, logprobs[-1].cpu(), top


def pick_rows(logits: torch.Tensor, targets: torch.Tensor, *, greedy: bool):
    """``pick``, but with every position's log-probabilities (k, V) left on the device."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)  # (k, V)
    picked = logprobs.gather(-1, targets.to(logprobs.device).unsqueeze(-1)).squeeze(-1)  # (k,)
    top = logprobs.argmax(dim=-1).cpu() if greedy else None
    return picked.cpu(), logprobs, top


def pick_projected(hidden, weight, spans: Sequence[tuple[int, int]], length: int, targets, *, greedy: bool):
    """``pick`` for positions ``spans[row]`` of every row, projecting ``hidden`` (B, T, C) itself.

    Each row's positions are widened inside the row to at least ``MIN_LOGIT_ROWS`` and cut into
    pieces of at most ``LOGITS_PER_PIECE`` logits (a short last piece joins the one before it), so
    every piece has as many rows as the full-logits path gives the matmul; see
    :func:`project_pieces` for how the pieces are projected.
    """
    size = piece_rows(weight)
    pieces = []
    for row, (first, last) in enumerate(spans):
        lo = max(0, min(first, last - MIN_LOGIT_ROWS))
        hi = max(last, min(length, lo + MIN_LOGIT_ROWS))
        cuts = list(range(lo, hi, size))[1:]
        if cuts and hi - cuts[-1] < MIN_LOGIT_ROWS:
            cuts.pop()
        for a, b in zip([lo, *cuts], [*cuts, hi], strict=True):
            keep_a, keep_b = max(a, first), min(b, last)  # the scored positions inside this piece
            if keep_a < keep_b:
                piece_targets = targets[row][keep_a - first : keep_b - first]
                pieces.append(Piece(row, hidden[row, a:b], keep_a - a, keep_b - a, piece_targets, keep_b == last))
    return project_pieces(weight, pieces, len(spans), greedy=greedy)


@dataclass(frozen=True)
class Piece:
    """Hidden states ``hidden`` (m, C) of one row to project; positions ``keep_a..keep_b-1`` are
    scored against ``targets``; ``last``: the piece holds the row's last scored position."""

    row: int
    hidden: torch.Tensor
    keep_a: int
    keep_b: int
    targets: torch.Tensor
    last: bool


def piece_rows(weight: torch.Tensor) -> int:
    """Most positions projected in one matmul: ``LOGITS_PER_PIECE`` logits, a multiple of 16."""
    return max(MIN_LOGIT_ROWS, LOGITS_PER_PIECE // weight.shape[0] // MIN_LOGIT_ROWS * MIN_LOGIT_ROWS)


def project_pieces(weight, pieces: Sequence[Piece], n_rows: int, *, greedy: bool):
    """``pick`` for each of ``n_rows`` rows from its ``pieces`` (in row and position order).

    Consecutive pieces, of several rows, are stacked into one matmul of at most
    :func:`piece_rows` positions (zero rows fill a matmul up to ``MIN_LOGIT_ROWS``): the output
    head's weight is read once for all of them instead of once per row. A matmul's rows do not
    depend on the other rows it runs with (the premise of batch-size invariance), so stacking
    leaves every float as it was.
    """
    size = piece_rows(weight)
    chunks: list[list[Piece]] = [[]]
    rows = 0
    for piece in pieces:
        if chunks[-1] and rows + piece.hidden.shape[0] > size:
            chunks.append([])
            rows = 0
        chunks[-1].append(piece)
        rows += piece.hidden.shape[0]
    picked: list[list[torch.Tensor]] = [[] for _ in range(n_rows)]
    tops: list[list[torch.Tensor]] = [[] for _ in range(n_rows)]
    finals: list[torch.Tensor | None] = [None] * n_rows
    for chunk in chunks:
        stacked = joined([piece.hidden for piece in chunk])
        if stacked.shape[0] < MIN_LOGIT_ROWS:
            stacked = torch.cat((stacked, stacked.new_zeros(MIN_LOGIT_ROWS - stacked.shape[0], stacked.shape[1])))
        logits = torch.nn.functional.linear(stacked, weight)  # (rows, V), as the head does
        kept, offset = [], 0
        for piece in chunk:
            kept.append(logits[offset + piece.keep_a : offset + piece.keep_b])
            offset += piece.hidden.shape[0]
        chunk_picked, logprobs, chunk_top = pick_rows(
            joined(kept), joined([piece.targets for piece in chunk]), greedy=greedy
        )
        position = 0
        for piece in chunk:
            n = piece.keep_b - piece.keep_a
            picked[piece.row].append(chunk_picked[position : position + n])
            if chunk_top is not None:
                tops[piece.row].append(chunk_top[position : position + n])
            if piece.last:
                finals[piece.row] = logprobs[position + n - 1].to("cpu", copy=True)
            position += n
    return [(torch.cat(picked[row]), finals[row], torch.cat(tops[row]) if greedy else None) for row in range(n_rows)]


def joined(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """``torch.cat`` that does not copy a lone tensor."""
    return tensors[0] if len(tensors) == 1 else torch.cat(list(tensors))
