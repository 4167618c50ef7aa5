"""Plain-PyTorch Transformer training core (no Django imports anywhere in this package).

Modules: ``decoder`` / ``encoder`` (models), ``hf_format`` / ``model`` (transformers file layout),
``tokenizer``, ``data``, ``config``, ``trainer`` (optimiser, schedule, loop, checkpoints),
``generate``, ``lora``, ``export`` (model repository output), ``recipes/`` and ``run`` (entry point).
"""
