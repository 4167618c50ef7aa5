"""Signed results: what an evaluation claims, in canonical JSON, signed with Ed25519.

A hub signs the results of every evaluation run with its key; anyone holding the public key can
check that the numbers, the model and suite they name, and the per-item files they point to
(by sha256) are what the hub's worker produced — and, with the model and the per-item files,
re-score items to see the numbers reproduce (``python -m evals verify``).

The payload keeps what determines and states the numbers: the fingerprint, the model (repository,
commit, file hashes), the suite (name, version, hash) and per task its hash, metrics and the
sha256 of its per-item JSON Lines file, plus library versions and device.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from evals.harness.errors import EvalError

ALGORITHM = "Ed25519"
BUNDLE_SCHEMA = "llm-hub/signed-results/v1"


def canonical_json(value: Any) -> bytes:
    """The one byte string a value signs as: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def results_payload(results: dict[str, Any], *, source: dict[str, Any]) -> dict[str, Any]:
    """What a signature covers, from a results document of ``run_suite`` and where it came from
    (``source``: e.g. the hub, the run id, the model's repository and commit, the suite's)."""
    return {
        "schema": BUNDLE_SCHEMA,
        "source": source,
        "fingerprint": results["fingerprint"],
        "suite": {key: results["suite"][key] for key in ("name", "version", "hash", "aggregate")},
        "model": {"files": results["model"]["files"]},
        "tasks": {
            name: {key: task[key] for key in ("task_hash", "n", "metrics", "samples_sha256")}
            for name, task in results["tasks"].items()
        },
        "config": results["config"],
        "environment": results["environment"],
    }


def generate_private_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise EvalError("the signing key is not an Ed25519 private key")
    return key


def public_key_pem(private_pem: bytes) -> bytes:
    return (
        _private(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def key_id(public_pem: bytes) -> str:
    """A short name of a public key: sha256 of its raw 32 bytes, first 16 hex digits."""
    raw = _public(public_pem).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _public(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise EvalError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise EvalError("the public key is not an Ed25519 key")
    return key


def sign(payload: dict[str, Any], *, private_pem: bytes) -> dict[str, Any]:
    """A bundle: the payload, its signature (base64) and the id of the key that made it."""
    signature = _private(private_pem).sign(canonical_json(payload))
    return {
        "algorithm": ALGORITHM,
        "key_id": key_id(public_key_pem(private_pem)),
        "payload": payload,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


class SignatureMismatch(EvalError):
    """The results are not what the key signed."""


def verify(bundle: dict[str, Any], *, public_pem: bytes) -> dict[str, Any]:
    """The bundle's payload if its signature is the key's over exactly that payload;
    ``SignatureMismatch`` when any byte of it changed or another key signed it."""
    if bundle.get("algorithm") != ALGORITHM:
        raise SignatureMismatch(f"unsupported signature algorithm {bundle.get('algorithm')!r}")
    if bundle.get("key_id") != key_id(public_pem):
        raise SignatureMismatch(f"the results were signed with key {bundle.get('key_id')}, not {key_id(public_pem)}")
    try:
        signature = base64.b64decode(bundle["signature"], validate=True)
        _public(public_pem).verify(signature, canonical_json(bundle["payload"]))
    except (KeyError, TypeError, ValueError, InvalidSignature):
        raise SignatureMismatch("the signature does not match the results: they were changed after signing") from None
    return bundle["payload"]
