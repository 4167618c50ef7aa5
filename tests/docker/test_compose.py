"""The compose stack (docker/compose.yaml) read as YAML: the services a production hub runs, the GPU
reserved for the GPU worker alone, one environment for every process of the hub image that the
settings actually read, nginx wired to the same blob folder and redirect prefix as the web
processes, and every file it names present. ``docker compose config`` validates it where the
compose plugin exists."""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.nginx import TEMPLATE, template_placeholders

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
# What `docker compose config` needs set (the file refuses to start without them).
REQUIRED_ENV = {"DJANGO_SECRET_KEY": "x" * 50, "MINIO_ROOT_PASSWORD": "minio-secret"}
HUB_SERVICES = {"migrate", "web", "playground", "worker", "gpu-worker", "beat", "inference"}


def interpolate(value, env: dict[str, str]):
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``, and ``$$`` for a dollar."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise ValueError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    if isinstance(value, str):
        return re.sub(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", one, value).replace("$$", "$")
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


@pytest.fixture(scope="module")
def stack() -> dict:
    return interpolate(yaml.safe_load(COMPOSE.read_text()), REQUIRED_ENV)


def settings_variables() -> set[str]:
    """Every environment variable config/ reads (``env.<type>("NAME", ...)`` of ``config.env``)."""
    names = set()
    for path in (ROOT / "config").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "env"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.add(node.args[0].value)
    return names


def option(command: str, flag: str) -> str:
    words = shlex.split(command)
    return words[words.index(flag) + 1]


def test_the_stack_runs_every_process_of_a_production_hub(stack):
    assert set(stack["services"]) == {
        "postgres", "redis", "minio", "minio-bucket", "migrate", "web", "playground", "nginx", "worker", "gpu-worker",
        "beat", "inference",
    }  # fmt: skip
    services = stack["services"]
    assert int(services["web"]["deploy"]["replicas"]) == 2
    scaled = interpolate(yaml.safe_load(COMPOSE.read_text()), {**REQUIRED_ENV, "WEB_REPLICAS": "5"})
    assert int(scaled["services"]["web"]["deploy"]["replicas"]) == 5
    assert "-Q default" in services["worker"]["command"]
    assert "-Q gpu" in services["gpu-worker"]["command"]
    assert services["beat"]["command"].endswith("celery -A config beat")
    # The Gradio playgrounds: one process (their queues live in its memory), on every interface of
    # the compose network, never replicated; the web processes and nginx reach it there.
    playground = services["playground"]
    assert shlex.split(playground["command"])[:3] == ["python", "manage.py", "playground_server"]
    assert option(playground["command"], "--host") == "0.0.0.0"
    assert "deploy" not in playground
    # Only nginx is published: the web processes, the engine and the stores stay on the network.
    assert [name for name, service in services.items() if service.get("ports")] == ["nginx"]
    for name in HUB_SERVICES - {"migrate"}:
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}


def test_the_web_keeps_idle_connections_longer_than_nginx_keeps_its_own(stack):
    # A server that closes an idle keep-alive connection while the proxy sends a request on it
    # fails that request; so nginx (upstream keepalive_timeout, 60 s unless the template sets it)
    # must be the side that closes, in compose and under `make serve` (Procfile) alike.
    template = TEMPLATE.read_text()
    upstreams = template.split("server {")[0]
    assert not re.search(r"^\s*keepalive_timeout\s", upstreams, re.MULTILINE)  # they keep nginx's 60 s
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if ": " in line)
    for command in (stack["services"]["web"]["command"], procfile["web"]):
        assert int(option(command, "--timeout-keep-alive")) > 60


def test_only_the_gpu_worker_reserves_a_gpu_and_only_its_image_has_cuda(stack):
    services = stack["services"]
    reserving = [
        name for name, service in services.items()
        if service.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices")
    ]  # fmt: skip
    assert reserving == ["gpu-worker"]
    assert services["gpu-worker"]["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    ]
    assert services["gpu-worker"]["build"]["args"] == {"TORCH_INDEX": "cu128"}
    assert services["gpu-worker"]["image"] == "llm-hub:cuda"
    for name in HUB_SERVICES - {"gpu-worker"}:
        assert "args" not in services[name]["build"]
        assert services[name]["image"] == "llm-hub:cpu"
    for name in HUB_SERVICES:
        assert (services[name]["build"]["context"], services[name]["build"]["dockerfile"]) == (
            "..",
            "docker/Dockerfile",
        )
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "ARG TORCH_INDEX=cpu" in dockerfile
    assert "https://download.pytorch.org/whl/${TORCH_INDEX}" in dockerfile


def test_every_hub_process_gets_one_environment_that_the_settings_read(stack):
    services = stack["services"]
    environments = [services[name]["environment"] for name in sorted(HUB_SERVICES)]
    assert all(environment == environments[0] for environment in environments)
    env = environments[0]
    unread = {name for name in env if name not in settings_variables()}
    assert unread == set()
    # Each URL names a service of the stack, with its credentials.
    postgres = services["postgres"]["environment"]
    database = urlsplit(env["DATABASE_URL"])
    assert (database.hostname, database.username, database.password, database.path) == (
        "postgres", postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], "/" + postgres["POSTGRES_DB"],
    )  # fmt: skip
    assert urlsplit(env["CELERY_BROKER_URL"]).hostname == urlsplit(env["CACHE_URL"]).hostname == "redis"
    engine = urlsplit(env["HUB_INFERENCE_ENGINE_URL"])
    assert (engine.hostname, str(engine.port)) == ("inference", option(services["inference"]["command"], "--port"))
    playground = urlsplit(env["HUB_PLAYGROUND_URL"])
    assert (playground.hostname, str(playground.port)) == (
        "playground", option(services["playground"]["command"], "--port"),
    )  # fmt: skip
    assert urlsplit(env["HUB_S3_ENDPOINT_URL"]).hostname == "minio"
    minio = services["minio"]["environment"]
    assert (env["HUB_S3_ACCESS_KEY_ID"], env["HUB_S3_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"],
    )  # fmt: skip
    # The bucket HUB_S3_BUCKET=hub names is made by minio-bucket; unset, blobs stay on the filesystem.
    assert "mc mb --ignore-existing hub/hub" in services["minio-bucket"]["command"][0]
    assert env["HUB_TRUSTED_PROXIES"] == "1"  # nginx, which appends to X-Forwarded-For
    assert env["HUB_S3_BUCKET"] == ""


def test_nginx_serves_the_web_processes_and_the_blob_folder_they_write(stack):
    services = stack["services"]
    nginx, web, env = services["nginx"], services["web"], services["web"]["environment"]
    # The template nginx renders is this repository's, and each of its placeholders gets a value.
    mounts = dict(volume.split(":", 1) for volume in nginx["volumes"])
    assert (DOCKER / TEMPLATE.name).is_file()
    assert mounts[f"./{TEMPLATE.name}"] == "/etc/nginx/templates/default.conf.template:ro"
    assert set(nginx["environment"]) == template_placeholders()
    host, port = nginx["environment"]["HUB_UPSTREAM"].split(":")
    assert (host, port) == ("web", option(web["command"], "--port"))
    assert nginx["environment"]["HUB_PLAYGROUND_UPSTREAM"] == urlsplit(env["HUB_PLAYGROUND_URL"]).netloc
    assert set(nginx["depends_on"]) == {"web", "playground"}
    assert nginx["environment"]["HUB_ACCEL_REDIRECT_PREFIX"] == env["HUB_ACCEL_REDIRECT_PREFIX"]
    # The blob folder is the same volume at the same path, read-only for nginx.
    assert nginx["environment"]["HUB_BLOB_ROOT"] == env["HUB_BLOB_ROOT"] == "/data/blobs"
    assert web["volumes"] == ["hub-data:/data"]
    assert mounts["hub-data"] == "/data:ro"
    assert nginx["ports"] == ["8000:80"]
    assert nginx["environment"]["NGINX_LISTEN"] == "80"


def test_the_image_holds_every_package_of_the_hub():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \./\1$", dockerfile, flags=re.MULTILINE))
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"benchmarks"}
    assert packages <= copied, packages - copied


def test_docker_compose_validates_the_file(tmp_path):
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    if subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode != 0:
        pytest.skip("the docker compose plugin is not installed (`docker compose version` fails)")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True, text=True, check=False, env={"PATH": "/usr/local/bin:/usr/bin:/bin", **REQUIRED_ENV},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
