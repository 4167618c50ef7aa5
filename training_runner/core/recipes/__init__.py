"""One recipe per training method, each a ``Recipe`` with ``setup / train / save_checkpoint / cleanup``.

A method's module holds what is particular to it: ``build`` (tokenizer, model, objective) and,
where the output differs, ``export``. They share the rest by composing ``common``, not by
inheritance.
"""

from . import classify, lora, pretrain_clm, pretrain_mlm, sft

RECIPES = {
    "pretrain_clm": pretrain_clm.recipe,
    "pretrain_mlm": pretrain_mlm.recipe,
    "sft": sft.recipe,
    "classify": classify.recipe,
    "lora": lora.recipe,
}
