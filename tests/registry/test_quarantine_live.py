"""Quarantine and the security fields, against a live hub with the real huggingface_hub (+ hf_xet)
client: a malicious pickle uploaded through Xet is flagged and never loaded, answers 403 naming the
scan on every download path (resolve, raw, the file page, the Xet reconstruction, the LFS batch API)
until its owner releases it, and the client reads ``securityFileStatus`` / ``securityRepoStatus``."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

from registry.models import ScanRelease, XetFile
from registry.scanning import scanner_version
from tests.registry.scan_files import SYSTEM_IMPORT, malicious_pickle, torch_checkpoint
from tests.support.hf import hub_client

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SYSTEM_MODULE = SYSTEM_IMPORT.split(".")[0]


@pytest.fixture
def uploaded(live_server, settings, canary):
    """alice/tiny with ``evil.bin`` (the malicious pickle) and ``model.pt`` (a benign checkpoint),
    both uploaded through Xet by the stock client."""
    settings.HUB_UPLOAD_POLICY = "xet"
    hub = hub_client(live_server.url)
    hub.api.create_repo("tiny")
    evil = malicious_pickle(canary)
    hub.api.upload_file(path_or_fileobj=evil, path_in_repo="evil.bin", repo_id="alice/tiny")
    hub.api.upload_file(path_or_fileobj=torch_checkpoint(), path_in_repo="model.pt", repo_id="alice/tiny")
    return hub, evil


def _auth(hub) -> dict[str, str]:
    return {"Authorization": f"Bearer {hub.token}"}


def _download_paths(hub, evil: bytes) -> dict[str, httpx.Response]:
    """One answer per download path for ``evil.bin``."""
    sha256 = hashlib.sha256(evil).hexdigest()
    token = httpx.get(f"{hub.url}/api/models/alice/tiny/xet-read-token/main", headers=_auth(hub)).json()
    file_hash = XetFile.objects.get(sha256=sha256).file_hash
    batch = {"operation": "download", "objects": [{"oid": sha256, "size": len(evil)}], "transfers": ["basic"]}
    return {
        "resolve": httpx.get(f"{hub.url}/alice/tiny/resolve/main/evil.bin", headers=_auth(hub)),
        "resolve HEAD": httpx.head(f"{hub.url}/alice/tiny/resolve/main/evil.bin", headers=_auth(hub)),
        "raw": httpx.get(f"{hub.url}/alice/tiny/raw/main/evil.bin", headers=_auth(hub)),
        "xet": httpx.get(
            f"{token['casUrl']}/v1/reconstructions/{file_hash}",
            headers={"Authorization": f"Bearer {token['accessToken']}"},
        ),
        "lfs batch": httpx.post(
            f"{hub.url}/alice/tiny.git/info/lfs/objects/batch",
            json=batch,
            headers=_auth(hub) | {"Accept": "application/vnd.git-lfs+json"},
        ),
    }


def test_quarantined_file_answers_403_on_every_download_path_until_released(uploaded, tmp_path):
    hub, evil = uploaded
    answers = _download_paths(hub, evil)
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {"resolve": 403, "resolve HEAD": 403, "raw": 403, "xet": 403, "lfs batch": 200}
    message = answers["resolve"].json()["error"]
    assert message.startswith("evil.bin is quarantined and not served. Malware scan (picklescan ")
    assert f"picklescan {scanner_version()}" in message
    assert f"dangerous imports {SYSTEM_IMPORT}" in message
    assert answers["resolve"].json()["code"] == "file_quarantined"
    assert "evil.bin is quarantined and not served." in answers["raw"].text  # the HTML error page
    assert answers["xet"].json()["code"] == "file_quarantined"
    (lfs_object,) = answers["lfs batch"].json()["objects"]
    assert lfs_object["error"]["code"] == 403
    assert "quarantined" in lfs_object["error"]["message"]
    assert "actions" not in lfs_object
    # The stock client reports a 403 on its HEAD request as "not found in the cache", caused by the
    # server's answer, which carries the quarantine message.
    with pytest.raises(LocalEntryNotFoundError) as refused:
        hf_hub_download("alice/tiny", "evil.bin", endpoint=hub.url, token=hub.token, cache_dir=tmp_path / "c1")
    cause = refused.value.__cause__
    assert isinstance(cause, HfHubHTTPError)
    assert cause.response.status_code == 403
    assert "evil.bin is quarantined" in cause.server_message
    # The benign checkpoint is served.
    assert httpx.get(f"{hub.url}/alice/tiny/resolve/main/model.pt").content == torch_checkpoint()

    # Release: only the owner, only after confirming the warning; recorded.
    release_url = f"{hub.url}/api/v1/repos/models/alice/tiny/quarantine/release"
    bob = hub_client(hub.url, "bob")
    assert httpx.post(release_url, json={"path": "evil.bin", "confirm": True}, headers=_auth(bob)).status_code == 403
    unconfirmed = httpx.post(release_url, json={"path": "evil.bin", "confirm": False}, headers=_auth(hub))
    assert (unconfirmed.status_code, unconfirmed.json()["fields"]) == (400, {"confirm": ["Must be true."]})
    released = httpx.post(
        release_url, json={"path": "evil.bin", "confirm": True, "reason": "test fixture"}, headers=_auth(hub)
    )
    assert released.status_code == 201
    assert {k: released.json()[k] for k in ("path", "released_by", "reason")} == {
        "path": "evil.bin",
        "released_by": "alice",
        "reason": "test fixture",
    }
    assert ScanRelease.objects.get().released_by.username == "alice"

    answers = _download_paths(hub, evil)
    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert statuses == {"resolve": 200, "resolve HEAD": 200, "raw": 200, "xet": 200, "lfs batch": 200}
    assert answers["resolve"].content == evil
    assert answers["raw"].content == evil
    (lfs_object,) = answers["lfs batch"].json()["objects"]
    assert httpx.get(lfs_object["actions"]["download"]["href"]).content == evil
    path = hf_hub_download("alice/tiny", "evil.bin", endpoint=hub.url, token=hub.token, cache_dir=tmp_path / "c2")
    with open(path, "rb") as handle:
        assert handle.read() == evil


def test_real_client_reads_file_and_repo_security_fields(uploaded):
    hub, _evil = uploaded
    expected_evil = {
        "safe": False,
        "status": "unsafe",
        "av_scan": None,
        "pickle_import_scan": {
            "highestSafetyLevel": "dangerous",
            "imports": [{"module": SYSTEM_MODULE, "name": "system", "safety": "dangerous"}],
        },
    }
    expected_model = {
        "safe": True,
        "status": "safe",
        "av_scan": None,
        "pickle_import_scan": {
            "highestSafetyLevel": "innocuous",
            "imports": [
                {"module": "collections", "name": "OrderedDict", "safety": "innocuous"},
                {"module": "torch", "name": "FloatStorage", "safety": "innocuous"},
                {"module": "torch._utils", "name": "_rebuild_tensor_v2", "safety": "innocuous"},
            ],
        },
    }
    tree = {entry.path: entry for entry in hub.api.list_repo_tree("alice/tiny", expand=True)}
    assert tree[".gitattributes"].security is None
    assert _fields(tree["evil.bin"].security) == expected_evil
    assert _fields(tree["model.pt"].security) == expected_model
    infos = {e.path: e for e in hub.api.get_paths_info("alice/tiny", ["evil.bin", "model.pt"], expand=True)}
    assert _fields(infos["evil.bin"].security) == expected_evil
    assert _fields(infos["model.pt"].security) == expected_model
    # Without expand, no security fields (as on the Hub).
    assert [e.security for e in hub.api.list_repo_tree("alice/tiny")] == [None, None, None]
    info = hub.api.model_info("alice/tiny", securityStatus=True)
    assert info.security_repo_status == {
        "scansDone": True,
        "filesWithIssues": [{"path": "evil.bin", "level": "unsafe", "quarantined": True}],
    }
    assert hub.api.model_info("alice/tiny").security_repo_status is None


def _fields(security) -> dict:
    return {key: security[key] for key in ("safe", "status", "av_scan", "pickle_import_scan")}
