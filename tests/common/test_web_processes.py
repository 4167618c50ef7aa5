"""Two web processes on one database, one data folder and one metrics folder, as
``make serve WORKERS=2`` runs them: the stock client creates a repository on one, uploads to the
other, downloads from the first; a rate-limit budget is one budget across both; a scrape of
either sums both processes' metrics."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, hf_hub_download
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.hubserver import uvicorn_command
from tests.support.factories import make_token, make_user
from tests.support.hf import random_bytes
from tests.support.inference import free_port
from tests.support.processes import http_process

pytestmark = [pytest.mark.live, pytest.mark.slow]


@contextlib.contextmanager
def web_process(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with http_process(uvicorn_command(port), url, env=env, timeout=120):
        yield url


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    response = httpx.get(url + "/metrics", timeout=30)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_two_web_processes_share_the_database_blobs_budgets_and_metrics(transactional_db, tmp_path):
    alice = make_user("alice")
    token = make_token(alice)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        "HUB_WEB_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_LEVEL": "WARNING",
        "HUB_LFS_THRESHOLD_BYTES": "1024",  # the weights below go through the large-file path
        "HUB_THROTTLE_FILES_ANON": "4/day",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }
    with web_process(env) as first, web_process(env) as second:
        on_first = HfApi(endpoint=first, token=token)
        on_second = HfApi(endpoint=second, token=token)
        weights = random_bytes(300_000, seed=7)

        on_first.create_repo("alice/shared")
        on_second.upload_file(path_or_fileobj=weights, path_in_repo="model.bin", repo_id="alice/shared")
        on_second.upload_file(
            path_or_fileobj=b"---\nlicense: mit\n---\n# Shared\n", path_in_repo="README.md", repo_id="alice/shared"
        )

        assert sorted(on_first.list_repo_files("alice/shared")) == [".gitattributes", "README.md", "model.bin"]
        downloaded = hf_hub_download(
            "alice/shared", "model.bin", endpoint=first, token=token, cache_dir=tmp_path / "hf-cache"
        )
        assert Path(downloaded).read_bytes() == weights
        assert on_second.model_info("alice/shared").sha == on_first.model_info("alice/shared").sha

        # One anonymous budget of 4 resolves a day, counted in the shared cache: two on each
        # process spend it, and then both refuse.
        readme = "/alice/shared/resolve/main/README.md"
        statuses = [httpx.head(url + readme, timeout=30).status_code for url in (first, second, first, second)]
        assert statuses == [200, 200, 200, 200]
        assert [httpx.head(url + readme, timeout=30).status_code for url in (first, second)] == [429, 429]

        # Either process's /metrics sums both.
        from_first, from_second = scrape(first), scrape(second)

    refused = [
        value
        for (name, labels), value in from_first.items()
        if name == "hub_http_requests_total" and ("status", "429") in labels and ("method", "HEAD") in labels
    ]
    assert sum(refused) == 2, sorted(k for k in from_first if k[0] == "hub_http_requests_total")
    head_ok = sum(
        value
        for (name, labels), value in from_first.items()
        if name == "hub_http_requests_total" and ("status", "200") in labels and ("method", "HEAD") in labels
    )
    assert head_ok >= 4  # the four above, plus the client's own HEAD before its download
    assert {k: v for k, v in from_first.items() if k[0] == "hub_http_requests_total"} == {
        k: v for k, v in from_second.items() if k[0] == "hub_http_requests_total"
    }
