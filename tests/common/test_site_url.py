"""Links written outside a request (emails, webhook payloads, cards) start with HUB_SITE_URL, which
carries the path prefix the hub is served under, whether or not the operator wrote it there."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import REPO_ROOT, subprocess_env

PRINT_SITE_URL = "import django; django.setup(); from django.conf import settings; print(settings.HUB_SITE_URL)"


def _site_url(**env) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SITE_URL],
        cwd=REPO_ROOT, env=subprocess_env(**env), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("site", "prefix", "expected"),
    [
        ("https://hub.example/", "", "https://hub.example/"),
        ("https://hub.example/", "/hub", "https://hub.example/hub/"),
        ("https://hub.example", "/llm/hub", "https://hub.example/llm/hub/"),
        ("https://hub.example/hub/", "/hub", "https://hub.example/hub/"),
        ("https://hub.example/hub", "/hub", "https://hub.example/hub"),
    ],
)
def test_the_site_url_carries_the_path_prefix(site, prefix, expected):
    assert _site_url(HUB_SITE_URL=site, HUB_PATH_PREFIX=prefix) == expected
