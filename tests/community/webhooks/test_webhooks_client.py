"""The stock huggingface_hub client's webhook calls against a live hub (HF_PROTOCOL.md §7.5):
create, list, get, update (an empty ``watched`` keeps the list), disable, enable, delete — and a
delivery of a change made through the client, received by a local receiver."""

from __future__ import annotations

import pytest
from huggingface_hub import WebhookPayload, WebhookWatchedItem
from huggingface_hub.errors import HfHubHTTPError

from community.webhooks.models import WebhookDelivery
from tests.support.hf import hub_client

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def test_the_stock_client_manages_webhooks_and_receives_deliveries(live_server, receiver):
    hub = hub_client(live_server.url)
    hub.api.create_repo("alice/tiny")

    made = hub.api.create_webhook(
        url=receiver.url, watched=[{"type": "model", "name": "alice/tiny"}], domains=["repo"], secret="abc"
    )
    assert made.url == receiver.url
    assert made.watched == [WebhookWatchedItem(type="model", name="alice/tiny")]
    assert (made.domains, made.secret, made.disabled, made.job) == (["repo"], "abc", False, None)

    assert [hook.id for hook in hub.api.list_webhooks()] == [made.id]
    assert hub.api.get_webhook(made.id) == made

    # The client sends "watched": [] with every update; the list stays.
    updated = hub.api.update_webhook(made.id, domains=["repo", "discussion"])
    assert updated.watched == made.watched
    assert updated.domains == ["discussion", "repo"]

    hub.api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id="alice/tiny")
    (request,) = receiver.received
    payload = WebhookPayload.model_validate(request.json)
    assert (payload.event.action, payload.event.scope, payload.repo.name) == ("update", "repo.content", "alice/tiny")
    assert request.headers["X-Webhook-Secret"] == "abc"
    assert request.signature_valid("abc")

    assert hub.api.disable_webhook(made.id).disabled is True
    hub.api.upload_file(path_or_fileobj=b"again", path_in_repo="b.txt", repo_id="alice/tiny")
    assert len(receiver.received) == 1  # disabled hooks hear nothing
    assert hub.api.enable_webhook(made.id).disabled is False
    assert WebhookDelivery.objects.count() == 1

    hub.api.delete_webhook(made.id)
    assert hub.api.list_webhooks() == []
    with pytest.raises(HfHubHTTPError) as missing:
        hub.api.get_webhook(made.id)
    assert missing.value.response.status_code == 404


def test_the_client_cannot_watch_what_it_does_not_administer(live_server, receiver):
    alice = hub_client(live_server.url)
    alice.api.create_repo("alice/tiny")
    bob = hub_client(live_server.url, "bob")
    with pytest.raises(HfHubHTTPError) as refused:
        bob.api.create_webhook(url=receiver.url, watched=[{"type": "model", "name": "alice/tiny"}])
    assert refused.value.response.status_code == 403
    assert refused.value.response.json() == {
        "error": "You are not allowed to administer alice/tiny.",
        "code": "forbidden",
    }
    with pytest.raises(HfHubHTTPError) as jobs:
        bob.api.create_webhook(job_id="abc", watched=[{"type": "user", "name": "bob"}])
    assert jobs.value.response.status_code == 400
