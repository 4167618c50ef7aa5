"""The playground process (``manage.py playground_server``) beside two web processes
(``config.asgi``, ``HUB_WEB_WORKERS=2``), as ``make serve WORKERS=2`` runs them: ``gradio_client``
drives a playground through the web processes, which pass ``/playground/`` on; pages, the REST API,
an upload and a run's submission are served by the same web processes; and none of them ever imports Gradio or
PyTorch (every import is logged by ``PYTHONPROFILEIMPORTTIME``, lazy ones included). Without the
playground process, ``/playground/`` is a JSON 503 and the rest of the hub answers as before."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from huggingface_hub import HfApi

from benchmarks.hubserver import uvicorn_command
from tests.support.factories import make_token, make_user
from tests.support.inference import free_port, publish_model
from tests.support.processes import http_process, stop_process

pytestmark = [pytest.mark.live, pytest.mark.slow]

HEAVY = {"torch", "gradio", "fastapi", "transformers"}


@contextlib.contextmanager
def server(command: list[str], url: str, log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """A server process whose stderr (its import log) goes to ``log``."""
    with open(log, "w") as handle, http_process(command, url, env=env, stderr=handle) as process:
        yield process


def imported(log: Path) -> set[str]:
    """The top-level packages a process tree imported (``-X importtime`` lines on its stderr)."""
    names = set()
    for line in log.read_text().splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "package":  # the header line
                names.add(name.split(".")[0])
    return names


def test_web_processes_pass_the_playgrounds_on_and_never_load_gradio_or_torch(
    live_inference, model_dirs, client, tmp_path, shared_data
):
    alice = make_user("alice")
    token = make_token(alice, role="write")
    publish_model(alice, "tiny-llama", model_dirs["llama"])
    publish_model(alice, "secret", model_dirs["llama2"], private=True)
    env = {
        "HUB_INFERENCE_ENGINE_URL": live_inference,
        "PYTHONPROFILEIMPORTTIME": "1",
        "LOG_LEVEL": "WARNING",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "CELERY_BROKER_DIR": str(tmp_path / "broker"),  # the runs it queues stay here
    }
    playground_port, web_port = free_port(), free_port()
    playground_url, web = f"http://127.0.0.1:{playground_port}", f"http://127.0.0.1:{web_port}"
    playground_command = [sys.executable, "manage.py", "playground_server", "--port", str(playground_port)]
    web_env = {**env, "HUB_PLAYGROUND_URL": playground_url, "HUB_WEB_WORKERS": "2"}
    playground_log, web_log = tmp_path / "playground.log", tmp_path / "web.log"

    with (
        server(playground_command, playground_url, playground_log, env) as playground,
        server(uvicorn_command(web_port, workers=2), web, web_log, web_env),
    ):
        # The playground through the web processes: the page, its config, a streamed generation.
        page = httpx.get(f"{web}/playground/text-generation/alice/tiny-llama/", timeout=30)
        assert page.status_code == 200
        assert "/playground/text-generation/alice/tiny-llama" in page.text
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        assert httpx.get(f"{web}/playground/text-generation/alice/tiny-llama", timeout=30).status_code == 308
        arguments = ("alpha beta", 16, 0.0, 0, 1.0, 1.0, -1)
        playground_client = Client(
            f"{web}/playground/text-generation/alice/tiny-llama/", verbose=False, analytics_enabled=False
        )
        updates = list(playground_client.submit(*arguments, api_name="/generate"))
        expected = httpx.post(
            f"{web}/api/v1/models/alice/tiny-llama/generate",
            json={"prompt": "alpha beta", "max_new_tokens": 16, "temperature": 0},
            timeout=120,
        ).json()["text"]
        assert updates[-1] == expected
        assert len(updates) >= 2
        # Access is the playground process's decision, on the session the web passes on.
        assert httpx.get(f"{web}/playground/text-generation/alice/secret/", timeout=30).status_code == 401
        client.force_login(alice)
        session = {"sessionid": client.cookies["sessionid"].value}
        assert httpx.get(f"{web}/playground/text-generation/alice/secret/", cookies=session).status_code == 200
        # The playground process itself serves nothing else.
        assert httpx.get(f"{playground_url}/alice/tiny-llama", timeout=30).status_code == 404

        # Pages, the REST API and an upload, from the same web processes.
        for path in ("/", "/models", "/alice/tiny-llama", "/alice/tiny-llama/playground", "/api/models"):
            assert httpx.get(web + path, timeout=60).status_code == 200, path
        api = HfApi(endpoint=web, token=token)
        api.create_repo("alice/uploaded")
        api.upload_file(path_or_fileobj=b"weights" * 50_000, path_in_repo="w.bin", repo_id="alice/uploaded")
        assert api.list_repo_files("alice/uploaded") == [".gitattributes", "w.bin"]
        # An evaluation run's submission checks the model's config.json in the web process.
        submitted = httpx.post(
            f"{web}/api/v1/runs",
            json={"kind": "evaluation", "model": "alice/tiny-llama", "suite": "bigbench_mc"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert submitted.status_code == 201, submitted.text

        # Without the playground process: a JSON 503 for the playgrounds, the rest as before.
        stop_process(playground)
        gone = httpx.get(f"{web}/playground/text-generation/alice/tiny-llama/", timeout=30)
        assert (gone.status_code, gone.json()["code"]) == (503, "playgrounds_unavailable")
        assert httpx.get(f"{web}/alice/tiny-llama", timeout=60).status_code == 200

    web_imports, playground_imports = imported(web_log), imported(playground_log)
    assert {"django", "uvicorn", "httpx"} <= web_imports  # the log holds the web's imports
    assert {"gradio", "fastapi"} <= playground_imports
    assert web_imports & HEAVY == set()
