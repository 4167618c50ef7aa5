"""The engine process's resolver: a model key becomes the snapshot folder of that commit."""

from __future__ import annotations

import pytest

from tests.support.factories import make_user
from tests.support.inference import publish_model
from training_runner.engine.errors import ModelUnavailable
from training_runner.inference.engine import engine_resolve, model_key

pytestmark = [pytest.mark.django_db(transaction=True)]  # the resolver closes its connection, as the engine does


def test_keys_resolve_to_snapshots_and_bad_keys_are_unavailable(settings, tmp_path, model_dirs):
    settings.HUB_INFERENCE_CACHE_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    repo = publish_model(make_user("alice"), "tiny", model_dirs["llama"])
    oid = repo.refs.get(name="refs/heads/main").target_oid
    path = engine_resolve(model_key(repo=repo, commit_oid=oid))
    assert path == tmp_path / str(repo.pk) / oid
    assert (path / "model.safetensors").read_bytes() == (model_dirs["llama"] / "model.safetensors").read_bytes()
    for key, message in [
        ("x@y", "malformed model key 'x@y'"),
        (f"{repo.pk + 1000}@{oid}", f"no repository {repo.pk + 1000}"),
        (f"{repo.pk}@{'0' * 40}", f"Commit {'0' * 40} not found in alice/tiny."),
    ]:
        with pytest.raises(ModelUnavailable) as caught:
            engine_resolve(key)
        assert caught.value.message == message
