"""Conversion to safetensors: a writer asks (REST), a sandboxed child converts with
``torch.load(weights_only=True)``, and a pull request carries ``model.safetensors`` (and its index
when sharded) with a checksum table. A checkpoint needing arbitrary globals is refused, unloaded."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load as safetensors_load

from community.models import Discussion
from registry.choices import ConversionStatus
from registry.models import Blob, Conversion
from registry.selectors.revisions import revision_resolve
from registry.storage import blob_open
from registry.trees import tree_lookup
from tests.frontend.builders import commit_files, make_repo
from tests.registry.scan_files import SYSTEM_IMPORT, malicious_torch_checkpoint, torch_checkpoint
from tests.support.factories import make_token, make_user

pytestmark = pytest.mark.django_db

TENSORS = {
    "embed.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4) / 7,
    "head.bias": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
    "layers.0.scale": torch.arange(5, dtype=torch.int64),
}


@pytest.fixture
def alice():
    return make_user("alice")


def _ask(client, user, repo_name: str = "tiny", **body):
    token = make_token(user)
    return client.post(
        f"/api/v1/repos/models/alice/{repo_name}/conversions",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _file_at(repo, ref: str, path: str) -> bytes:
    commit = revision_resolve(repo=repo, revision=ref).commit
    info = tree_lookup(commit.tree_oid, path)
    with blob_open(Blob.objects.get(sha256=info.sha256)) as handle:
        return handle.read()


def test_benign_checkpoint_converts_to_identical_tensors_in_a_pull_request(
    client, alice, django_capture_on_commit_callbacks
):
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"pytorch_model.bin": torch_checkpoint({"model": TENSORS}), "config.json": b"{}"})
    with django_capture_on_commit_callbacks(execute=True):
        answer = _ask(client, alice)
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.error, conversion.globals) == (ConversionStatus.SUCCEEDED, "", [])
    pull_request = Discussion.objects.get(repo=repo, num=conversion.pull_request_num)
    assert (pull_request.is_pull_request, pull_request.title) == (True, "Convert the checkpoints to safetensors")
    converted = safetensors_load(_file_at(repo, pull_request.git_reference, "model.safetensors"))
    assert sorted(converted) == ["model.embed.weight", "model.head.bias", "model.layers.0.scale"]
    for name, tensor in TENSORS.items():
        assert converted[f"model.{name}"].dtype == tensor.dtype
        assert torch.equal(converted[f"model.{name}"], tensor)
    assert [(row["name"], row["before"] == row["after"]) for row in conversion.checksums] == [
        ("model.embed.weight", True),
        ("model.head.bias", True),
        ("model.layers.0.scale", True),
    ]
    description = pull_request.events.order_by("pk").first().data["content"]
    assert "| tensor | dtype | shape | file | sha256 before | sha256 after | same |" in description
    row = conversion.checksums[0]
    assert (
        f"| `model.embed.weight` | float32 | 3×4 | model.safetensors | `{row['before'][:16]}` | "
        f"`{row['after'][:16]}` | yes |"
    ) in description
    # The branch itself is unchanged: the conversion is a proposal.
    assert tree_lookup(revision_resolve(repo=repo, revision="main").commit.tree_oid, "model.safetensors") is None
    detail = client.get(f"/api/v1/repos/models/alice/tiny/conversions/{conversion.pk}")
    assert (detail.status_code, detail.json()["pull_request_num"]) == (200, conversion.pull_request_num)


def test_large_checkpoint_is_sharded_with_an_index(client, alice, django_capture_on_commit_callbacks, monkeypatch):
    from community import conversion as conversions

    monkeypatch.setattr(conversions, "SHARD_BYTES", 50)
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"pytorch_model.bin": torch_checkpoint(TENSORS)})
    with django_capture_on_commit_callbacks(execute=True):
        assert _ask(client, alice).status_code == 202
    conversion = Conversion.objects.get()
    assert conversion.status == ConversionStatus.SUCCEEDED
    ref = Discussion.objects.get(repo=repo, num=conversion.pull_request_num).git_reference
    index = json.loads(_file_at(repo, ref, "model.safetensors.index.json"))
    assert index["weight_map"] == {
        "embed.weight": "model-00001-of-00002.safetensors",
        "head.bias": "model-00002-of-00002.safetensors",
        "layers.0.scale": "model-00002-of-00002.safetensors",
    }
    assert index["metadata"] == {"total_size": 48 + 4 + 40}
    loaded = {}
    for shard in sorted(set(index["weight_map"].values())):
        loaded.update(safetensors_load(_file_at(repo, ref, shard)))
    assert sorted(loaded) == sorted(TENSORS)
    assert all(torch.equal(loaded[name], tensor) for name, tensor in TENSORS.items())


def test_checkpoint_needing_arbitrary_globals_is_refused_with_their_list(
    client, alice, tmp_path, django_capture_on_commit_callbacks
):
    canary = tmp_path / "canary"
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"pytorch_model.bin": malicious_torch_checkpoint(canary)})
    with django_capture_on_commit_callbacks(execute=True):
        assert _ask(client, alice).status_code == 202
    conversion = Conversion.objects.get()
    assert (conversion.status, conversion.globals) == (ConversionStatus.FAILED, [SYSTEM_IMPORT])
    assert conversion.error == (
        f"The checkpoint needs globals outside the weights-only allow-list, so it is not loaded: {SYSTEM_IMPORT}"
    )
    assert conversion.pull_request_num is None
    assert Discussion.objects.filter(repo=repo).count() == 0
    assert not canary.exists()


def test_only_writers_convert_and_only_checkpoints(client, alice):
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"notes.txt": b"hi\n"})
    bob = make_user("bob")
    assert _ask(client, bob).status_code == 403
    nothing = _ask(client, alice)
    assert (nothing.status_code, nothing.json()["error"]) == (
        400,
        "main has no pickle checkpoint (.bin, .pt, .pth, .ckpt) at its top level.",
    )
    assert _ask(client, alice, branch="nope").status_code == 404
    assert Conversion.objects.count() == 0
