"""Tiny model directories shared by the engine tests (written once per session)."""

from __future__ import annotations

import pytest
import torch

from tests.support.tiny_models import write_decoder, write_encoder

torch.set_num_threads(1)  # tiny models: one thread is faster on a shared two-core machine


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine-models")
    return {
        "llama": write_decoder(root / "llama"),
        "gpt2": write_decoder(root / "gpt2", arch="gpt2", seed=1),
        "nochat": write_decoder(root / "nochat", chat=False),
        "long": write_decoder(root / "long", context=2048, stops=False),
        "mlm": write_encoder(root / "mlm", head="mlm"),
        "classify": write_encoder(root / "classify", head="classification"),
        "embed": write_encoder(root / "embed", head="base"),
    }
