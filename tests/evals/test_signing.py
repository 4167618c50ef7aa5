"""Signed results: any changed byte fails the signature; a changed per-item file is found by its
hash and, re-scored, by its numbers; ``python -m evals verify`` says so and exits 1."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals.harness.errors import EvalError
from evals.harness.run import run_suite
from evals.harness.signing import (
    SignatureMismatch,
    canonical_json,
    generate_private_key,
    key_id,
    public_key_pem,
    results_payload,
    sign,
    verify,
)
from evals.harness.suite import SUITES_DIR
from evals.harness.verify import verify_results

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def keys():
    private = generate_private_key()
    return private, public_key_pem(private)


@pytest.fixture(scope="module")
def signed(tmp_path_factory, keys, llama_dir, shared_data):
    """Three navigate items and three wiki articles scored by the core adapter, signed."""
    folder = tmp_path_factory.mktemp("signed")
    raw = yaml.safe_load((SUITES_DIR / "bigbench_mc.yaml").read_text())
    raw.update(name="small", tasks=raw["tasks"] + [{"file": str(SUITES_DIR / "tasks" / "wikitext.yaml")}])
    raw["tasks"][0]["bigbench"]["tasks"] = ["navigate"]
    raw.pop("aggregate")
    suite = folder / "small.yaml"
    suite.write_text(yaml.safe_dump(raw))
    outcome = run_suite(
        model_dir=llama_dir, suite=suite, output_dir=folder / "out", data_dir=shared_data, limit=3, adapter="core"
    )
    source = {"hub": "http://hub.test/", "run": 7, "model": {"repo": "alice/tiny", "commit": "a" * 40}}
    bundle = sign(results_payload(outcome.results, source=source), private_pem=keys[0])
    (folder / "results.signed.json").write_text(json.dumps(bundle))
    return folder


def test_a_signature_covers_every_byte_of_the_payload(signed, keys):
    _, public = keys
    bundle = json.loads((signed / "results.signed.json").read_text())
    payload = verify(bundle, public_pem=public)
    assert (payload["source"]["run"], sorted(payload["tasks"])) == (7, ["bigbench_navigate", "wikitext_test"])
    assert bundle["key_id"] == key_id(public)
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == '{"a":[1.5,"é"],"b":1}'.encode()

    def bump_acc(p):
        p["tasks"]["bigbench_navigate"]["metrics"]["acc"]["value"] += 1e-12

    def new_fingerprint(p):
        p["fingerprint"] = "0" * 64

    def other_commit(p):
        p["source"]["model"]["commit"] = "b" * 40

    for change in (bump_acc, new_fingerprint, other_commit):
        tampered = json.loads(json.dumps(bundle))
        change(tampered["payload"])
        with pytest.raises(SignatureMismatch, match="changed after signing"):
            verify(tampered, public_pem=public)
    other = public_key_pem(generate_private_key())
    with pytest.raises(SignatureMismatch, match="signed with key"):
        verify(bundle, public_pem=other)


def test_rescoring_reproduces_the_items_and_catches_a_tampered_file(signed, keys, llama_dir, tmp_path):
    _, public = keys
    report = verify_results(
        signed / "results.signed.json", public_key=public, samples_dir=signed / "out", rerun=10, model_dir=llama_dir
    )
    assert (report.ok, report.files_checked, report.files_changed) == (True, ["bigbench_navigate", "wikitext_test"], [])
    assert (report.rerun, report.identical, report.agreeing, report.max_abs_diff) == (6, 6, 6, 0.0)

    # One log-likelihood edited in the per-item file: its hash and its numbers both give it away.
    tampered = tmp_path / "samples"
    tampered.mkdir()
    for path in (signed / "out").glob("samples_*.jsonl"):
        (tampered / path.name).write_bytes(path.read_bytes())
    lines = (tampered / "samples_bigbench_navigate.jsonl").read_text().splitlines()
    record = json.loads(lines[1])
    record["responses"][0]["logprob"] += 0.5
    lines[1] = json.dumps(record, ensure_ascii=False)
    (tampered / "samples_bigbench_navigate.jsonl").write_text("\n".join(lines) + "\n")
    report = verify_results(
        signed / "results.signed.json", public_key=public, samples_dir=tampered, rerun=10, model_dir=llama_dir
    )
    assert report.files_changed == ["bigbench_navigate"]
    assert report.disagreeing == [f"bigbench_navigate/{record['item_id']}"]
    assert report.ok is False
    with pytest.raises(EvalError, match="is not the model the results name"):
        verify_results(
            signed / "results.signed.json", public_key=public, samples_dir=signed / "out", rerun=1, model_dir=tmp_path
        )


def test_the_cli_exits_1_on_results_that_do_not_hold(signed, keys, llama_dir, tmp_path):
    _, public = keys
    (tmp_path / "key.pem").write_bytes(public)
    command = [
        sys.executable,
        "-m",
        "evals",
        "verify",
        str(signed / "results.signed.json"),
        "--key",
        str(tmp_path / "key.pem"),
        "--samples",
        str(signed / "out"),
        "--rerun",
        "2",
        "--model",
        str(llama_dir),
    ]
    ok = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == "OK"
    assert "re-scored 2 items: 2 agree (2 bitwise), max |difference| 0" in ok.stdout
    bundle = json.loads((signed / "results.signed.json").read_text())
    bundle["payload"]["tasks"]["wikitext_test"]["n"] = 4
    (tmp_path / "forged.json").write_text(json.dumps(bundle))
    forged = subprocess.run(
        [*command[:4], str(tmp_path / "forged.json"), *command[5:7]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert forged.returncode == 1
    assert forged.stderr == "FAILED: the signature does not match the results: they were changed after signing\n"
