"""Malware scanning: the pure scanner on tiny files made here, and the scans the registry records
when content arrives. A malicious pickle is flagged and never loaded: its canary file never appears."""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile

import pytest

from registry.choices import ScanStatus
from registry.models import BlobScan
from registry.scanning import ScanLimits, ScanState, scan_file, scanner_version
from tests.frontend.builders import commit_files, make_repo
from tests.registry.scan_files import (
    SYSTEM_IMPORT,
    malicious_pickle,
    malicious_torch_checkpoint,
    torch_checkpoint,
    zip_bomb,
)
from tests.support.factories import make_user


@pytest.fixture
def canary(tmp_path):
    path = tmp_path / "canary"
    yield path
    assert not path.exists(), "the malicious pickle ran: the canary file exists"


def _scan(tmp_path, name: str, data: bytes, **limits):
    path = tmp_path / name
    path.write_bytes(data)
    return scan_file(path, name=name, limits=ScanLimits(**limits) if limits else None)


def test_malicious_pickle_is_dangerous_and_never_loaded(tmp_path, canary):
    report = _scan(tmp_path, "evil.pkl", malicious_pickle(canary))
    assert (report.kind, report.state) == ("pickle", ScanState.DANGEROUS)
    assert report.dangerous_imports == [SYSTEM_IMPORT]
    assert not canary.exists()


def test_malicious_pickle_inside_a_zip_torch_checkpoint_is_dangerous(tmp_path, canary):
    report = _scan(tmp_path, "pytorch_model.bin", malicious_torch_checkpoint(canary))
    assert (report.kind, report.state) == ("zip", ScanState.DANGEROUS)
    assert report.dangerous_imports == [SYSTEM_IMPORT]
    assert {f.entry for f in report.findings} == {"archive/data.pkl"}


def test_benign_torch_checkpoint_is_clean_through_the_allow_list(tmp_path):
    report = _scan(tmp_path, "model.pt", torch_checkpoint())
    assert (report.kind, report.state, report.issues) == ("zip", ScanState.CLEAN, [])
    assert sorted((f.module, f.name, f.safety) for f in report.findings) == [
        ("collections", "OrderedDict", "innocuous"),
        ("torch", "FloatStorage", "innocuous"),
        ("torch._utils", "_rebuild_tensor_v2", "innocuous"),
    ]


def test_unknown_global_is_suspicious(tmp_path):
    # GLOBAL 'mylib Thing', then STOP: a protocol-0 pickle naming a class the allow-list does not know.
    report = _scan(tmp_path, "thing.pkl", b"cmylib\nThing\n.")
    assert report.state == ScanState.SUSPICIOUS
    assert [(f.module, f.name, f.safety) for f in report.findings] == [("mylib", "Thing", "suspicious")]


def test_zip_bomb_is_dangerous_without_being_inflated(tmp_path):
    data = zip_bomb()
    assert len(data) < 100_000
    packed = zipfile.ZipFile(io.BytesIO(data)).infolist()[0].compress_size
    inflated = 40 * 1024 * 1024
    report = _scan(tmp_path, "weights.bin", data)
    assert report.state == ScanState.DANGEROUS
    assert report.issues == [
        f"archive bomb: model/data.pkl inflates {inflated // packed}x ({packed} -> {inflated} bytes, limit 200x)"
    ]


def test_zip_member_declaring_an_absurd_size_is_dangerous(tmp_path):
    report = _scan(tmp_path, "weights.zip", zip_bomb(inflated=3 * 1024 * 1024), max_entry_bytes=1024 * 1024)
    assert report.state == ScanState.DANGEROUS
    assert report.issues == [f"archive bomb: model/data.pkl declares {3 * 1024 * 1024} bytes (limit {1024 * 1024})"]


def test_member_inflating_past_its_declared_size_is_dangerous(tmp_path):
    honest = io.BytesIO()
    with zipfile.ZipFile(honest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/data.pkl", pickle.dumps({"x": 1}) * 100)
    data = bytearray(honest.getvalue())
    # Lower the declared uncompressed size (central directory and local header) to 10 bytes.
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 10)
    struct.pack_into("<I", data, 22, 10)
    report = _scan(tmp_path, "lying.zip", bytes(data))
    assert report.state == ScanState.DANGEROUS
    assert report.issues == ["archive bomb: a/data.pkl inflates past its declared size"]


def test_oversized_pickle_is_suspicious_and_not_read(tmp_path):
    report = _scan(tmp_path, "big.pkl", pickle.dumps(list(range(5000))), max_pickle_bytes=1024)
    assert report.state == ScanState.SUSPICIOUS
    assert report.issues == ["file: not scanned, the pickle stream is longer than 1024 bytes"]


def test_oversized_safetensors_header_is_flagged_suspicious(tmp_path):
    data = struct.pack("<Q", 200_000_000) + b"{}"
    report = _scan(tmp_path, "model.safetensors", data)
    assert (report.kind, report.state) == ("safetensors", ScanState.SUSPICIOUS)
    assert report.issues == ["safetensors: the header declares 200000000 bytes (limit 100000000)"]


def test_valid_safetensors_is_clean(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    report = _scan(tmp_path, "model.safetensors", struct.pack("<Q", len(header)) + header + b"\0" * 4)
    assert (report.kind, report.state, report.issues) == ("safetensors", ScanState.CLEAN, [])


# -------------------------------------------------------------------------- recorded per blob


@pytest.mark.django_db
def test_commit_queues_scans_of_pickles_and_records_results(canary, django_capture_on_commit_callbacks):
    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(
            repo,
            alice,
            {"evil.pkl": malicious_pickle(canary), "model.pt": torch_checkpoint(), "notes.txt": b"plain text\n"},
        )
    scans = {scan.hint: scan for scan in BlobScan.objects.select_related("blob")}
    assert sorted(scans) == ["evil.pkl", "model.pt"]
    evil = scans["evil.pkl"]
    assert (evil.state, evil.kind, evil.scanner, evil.scanner_version) == (
        ScanStatus.DANGEROUS,
        "pickle",
        "picklescan",
        scanner_version(),
    )
    assert evil.findings == [
        {"module": SYSTEM_IMPORT.split(".")[0], "name": "system", "safety": "dangerous", "entry": ""}
    ]
    assert evil.scanned_at is not None
    assert scans["model.pt"].state == ScanStatus.CLEAN
    assert scanner_version() == "1.0.5+hub1"


@pytest.mark.django_db
def test_scanning_twice_changes_nothing(django_capture_on_commit_callbacks):
    from registry.services.scans import blob_scan

    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"model.pt": torch_checkpoint()})
    scan = BlobScan.objects.get()
    again = blob_scan(blob_id=scan.blob_id)
    assert (again.state, again.scanned_at) == (ScanStatus.CLEAN, scan.scanned_at)


@pytest.mark.django_db
def test_protocol_0_pickle_uploaded_by_lfs_is_scanned_again_under_its_committed_name(
    canary, django_capture_on_commit_callbacks
):
    import hashlib
    import io

    from registry.services.commits import AddLfsFile, commit_create
    from registry.services.uploads import lfs_object_receive
    from tests.registry.scan_files import CanaryPayload

    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    data = pickle.dumps(CanaryPayload(canary), protocol=0)  # starts with "c", no magic bytes
    sha256 = hashlib.sha256(data).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        lfs_object_receive(repo=repo, sha256=sha256, size=len(data), stream=io.BytesIO(data))
    scan = BlobScan.objects.get()
    assert (scan.state, scan.kind, scan.hint) == (ScanStatus.CLEAN, "other", "")
    with django_capture_on_commit_callbacks(execute=True):
        commit_create(
            repo=repo,
            user=alice,
            ref="refs/heads/main",
            operations=[AddLfsFile(path="weights/evil.pkl", sha256=sha256, size=len(data))],
            summary="Add a pickle",
        )
    scan.refresh_from_db()
    assert (scan.state, scan.kind, scan.hint) == (ScanStatus.DANGEROUS, "pickle", "evil.pkl")
    assert [f["name"] for f in scan.findings] == ["system"]
