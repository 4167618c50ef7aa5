"""Few-shot examples: drawn per item, from a seed derived from (task hash, item id, seed).

lm-evaluation-harness draws every item's examples from one random stream, so an item's prompt
depends on which items came before it (``--limit``, sharding and ordering all change numbers).
Here each item has its own generator, so its prompt is a function of the task, the item and the
run seed only.
"""

import random
from collections.abc import Sequence

from evals.harness.data import Item
from evals.harness.errors import TaskSpecError
from evals.harness.hashing import derive_seed


def sample_shots(pool: Sequence[Item], *, k: int, task_hash: str, item_id: int | str, seed: int) -> list[Item]:
    """``k`` examples from ``pool`` (in pool order, never the item itself), fixed per item."""
    if k == 0:
        return []
    candidates = [example for example in pool if example.id != item_id]
    if k > len(candidates):
        raise TaskSpecError(f"num_fewshot={k} but the few-shot split has only {len(candidates)} other items")
    rng = random.Random(derive_seed("fewshot", task_hash, repr(item_id), seed))
    return rng.sample(candidates, k)


def build_context(
    *, description: str, shots: Sequence[tuple[str, str]], text: str, target_delimiter: str, fewshot_delimiter: str
) -> str:
    """description + Σ (question + target_delimiter + answer + fewshot_delimiter) + question."""
    examples = "".join(question + target_delimiter + answer + fewshot_delimiter for question, answer in shots)
    return description + examples + text
