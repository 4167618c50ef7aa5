"""Model back-ends. ``load_adapter`` picks one by name; all share ``base.LanguageModel``."""

from pathlib import Path

from evals.harness.errors import EvalError

ADAPTERS = ("transformers", "core")
DTYPES = ("float32", "bfloat16", "float16")


def load_adapter(kind: str, model_dir: str | Path, *, device: str = "cpu", dtype: str = "float32"):
    """Load ``model_dir`` with the ``transformers`` adapter or the training-core adapter."""
    import torch

    if dtype not in DTYPES:
        raise EvalError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    torch_dtype = getattr(torch, dtype)
    if kind == "transformers":
        from evals.harness.adapters.hf import TransformersAdapter

        return TransformersAdapter(model_dir, device=device, dtype=torch_dtype)
    if kind == "core":
        from evals.harness.adapters.core import CoreAdapter

        return CoreAdapter(model_dir, device=device, dtype=torch_dtype)
    raise EvalError(f"adapter must be one of {', '.join(ADAPTERS)}, got {kind!r}")
