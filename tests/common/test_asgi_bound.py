"""HUB_WEB_CONCURRENCY: at most that many requests run through Django at once in one process;
the others wait on the event loop and are all answered."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from common.asgi import HubASGIHandler
from tests.support import slow_urls


async def _many(count: int) -> list[tuple[int, str]]:
    transport = httpx.ASGITransport(app=HubASGIHandler())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        responses = await asyncio.gather(*(client.get("/slow") for _ in range(count)))
    return [(response.status_code, response.text) for response in responses]


@pytest.mark.parametrize(("bound", "most"), [(2, 2), (0, 6)])
def test_requests_past_the_bound_wait_their_turn(settings, bound, most):
    settings.ROOT_URLCONF = "tests.support.slow_urls"
    settings.HUB_WEB_CONCURRENCY = bound
    slow_urls.running.update(now=0, most=0)

    # A thread of its own: an event loop may already run in this one (Playwright's, in a full run).
    with ThreadPoolExecutor(max_workers=1) as thread:
        answers = thread.submit(asyncio.run, _many(6)).result()

    assert answers == [(200, "done")] * 6
    assert slow_urls.running["most"] == most
