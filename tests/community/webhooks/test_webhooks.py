"""Webhook deliveries to a real local HTTP receiver: the Hub's payload shape (checked with the
client's own ``WebhookPayload``), the secret and HMAC signature headers, retries with exponential
backoff after a 500, nothing delivered twice after a success, redelivery, test deliveries, the
SSRF guard, who may watch what, and the settings pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone
from huggingface_hub import WebhookPayload

from common.events import Event
from community.services.checks import check_report
from community.webhooks.choices import DeliveryState
from community.webhooks.models import WebhookDelivery
from community.webhooks.services.deliveries import webhook_backoff_seconds, webhook_delivery_attempt
from community.webhooks.services.hooks import webhook_create
from community.webhooks.tasks import webhooks_for_event_task
from registry.services.repos import repo_update_settings
from tests.frontend.builders import commit_files, make_repo
from tests.support.factories import make_org, make_token, make_user
from training_runner.jobs.choices import RunKind
from training_runner.jobs.models import Run
from training_runner.jobs.services.lifecycle import run_cancel

pytestmark = pytest.mark.django_db

SECRET = "s3cret-value"


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def repo(alice):
    return make_repo(alice, "tiny")


def _hook(user, receiver, *, watched=None, secret=SECRET, domains=None):
    return webhook_create(
        user=user, url=receiver.url, watched=watched or [{"type": "model", "name": "alice/tiny"}], secret=secret,
        domains=domains,
    )  # fmt: skip


def test_a_commit_is_delivered_signed_in_the_hubs_payload_shape(
    alice, repo, receiver, django_capture_on_commit_callbacks
):
    hook = _hook(alice, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        result = commit_files(repo, alice, {"a.txt": b"hello"})

    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert request.path == "/hook"
    assert request.headers["X-Webhook-Secret"] == SECRET
    assert request.signature_valid(SECRET)
    assert not request.signature_valid("another secret")
    assert request.headers["X-Webhook-Event"] == "repo.content"
    assert request.headers["X-Webhook-Attempt"] == "1"
    body = request.json
    parsed = WebhookPayload.model_validate(body)
    assert parsed.event.action == "update"
    assert parsed.event.scope == "repo.content"
    assert parsed.repo.name == "alice/tiny"
    assert parsed.repo.type == "model"
    assert parsed.repo.private is False
    assert parsed.repo.head_sha == result.commit.oid == body["repo"]["headSha"]
    assert parsed.webhook.id == str(hook.pk)
    assert parsed.webhook.version == 3
    assert [(r.ref, r.newSha) for r in parsed.updatedRefs] == [("refs/heads/main", result.commit.oid)]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.log.get().status_code) == (DeliveryState.SUCCEEDED, 1, 200)


def test_a_500_is_retried_with_backoff_and_a_success_is_never_delivered_again(
    alice, repo, receiver, events, django_capture_on_commit_callbacks
):
    _hook(alice, receiver)
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"a.txt": b"hello"})

    assert [r.headers["X-Webhook-Attempt"] for r in receiver.received] == ["1", "2"]
    assert receiver.received[0].body == receiver.received[1].body
    assert receiver.received[0].headers["X-Webhook-Delivery"] == receiver.received[1].headers["X-Webhook-Delivery"]
    delivery = WebhookDelivery.objects.get()
    assert [(a.number, a.status_code, a.retry_in) for a in delivery.log.all()] == [(1, 500, 10), (2, 200, None)]
    assert delivery.log.first().response_body == "receiver says no"
    assert (delivery.state, delivery.attempts) == (DeliveryState.SUCCEEDED, 2)

    # The same event dispatched again, and a stray attempt of the delivery: nothing more is sent.
    (event,) = [e for e in events if e.kind == "repo.updated"]
    webhooks_for_event_task.delay(event.as_dict())
    assert webhook_delivery_attempt(delivery_id=delivery.pk) is None
    assert len(receiver.received) == 2
    assert WebhookDelivery.objects.count() == 1


def test_dispatching_an_event_twice_delivers_it_once(alice, repo, receiver, events, django_capture_on_commit_callbacks):
    _hook(alice, receiver)
    with django_capture_on_commit_callbacks(execute=True):
        repo_update_settings(repo=repo, private=True, actor=alice)
    (event,) = events
    assert event.kind == "repo.config"
    assert event.actor_id == alice.pk
    webhooks_for_event_task.delay(Event.from_dict(event.as_dict()).as_dict())
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().scope == "repo.config"
    assert receiver.received[0].json["repo"]["private"] is True


def test_backoff_doubles_up_to_its_cap(settings):
    settings.HUB_WEBHOOK_BACKOFF_SECONDS = 10
    settings.HUB_WEBHOOK_BACKOFF_MAX_SECONDS = 100
    assert [webhook_backoff_seconds(attempt=n) for n in range(1, 7)] == [10, 20, 40, 80, 100, 100]


def test_a_delivery_gives_up_after_the_last_attempt_and_can_be_redelivered(
    alice, repo, receiver, settings, django_capture_on_commit_callbacks
):
    settings.HUB_WEBHOOK_MAX_ATTEMPTS = 3
    hook = _hook(alice, receiver)
    receiver.statuses = [500, 502, 503]
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"a.txt": b"hello"})
    delivery = WebhookDelivery.objects.get()
    assert [(a.status_code, a.retry_in) for a in delivery.log.all()] == [(500, 10), (502, 20), (503, None)]
    assert delivery.state == DeliveryState.FAILED

    api = Client(headers={"authorization": f"Bearer {make_token(alice)}"})
    url = f"/api/v1/webhooks/{hook.pk}/deliveries/{delivery.pk}/redeliver"
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(url)
    assert answer.status_code == 200
    assert (answer.json()["state"], answer.json()["attempts"]) == ("pending", 3)  # queued; sent after the answer
    assert len(receiver.received) == 4
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.log.last().status_code) == (DeliveryState.SUCCEEDED, 4, 200)

    again = api.post(url)
    assert again.status_code == 409
    assert again.json() == {
        "error": f"Delivery {delivery.pk} is succeeded; only failed deliveries are sent again.",
        "code": "conflict",
    }
    assert len(receiver.received) == 4


def test_a_test_delivery_from_the_settings_page_is_logged(alice, repo, receiver, django_capture_on_commit_callbacks):
    hook = _hook(alice, receiver)
    page = Client()
    page.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        answer = page.post(f"/settings/webhooks/{hook.pk}/test")
    assert answer.status_code == 302
    assert receiver.received[0].json["event"] == {"action": "update", "scope": "webhook.test"}
    WebhookPayload.model_validate(receiver.received[0].json)
    detail = page.get(f"/settings/webhooks/{hook.pk}")
    delivery = WebhookDelivery.objects.get()
    html = detail.content.decode()
    assert f'<tr id="delivery-{delivery.pk}">' in html
    assert "<code>webhook.test</code>" in html
    assert "HTTP 200 in" in html
    assert "X-Webhook-Secret: …\n" in html  # the secret itself is never shown
    assert SECRET not in html


def test_the_settings_page_creates_a_webhook_and_lists_it(alice, repo, receiver):
    page = Client()
    page.force_login(alice)
    answer = page.post(
        "/settings/webhooks",
        {"url": receiver.url, "watched": "model alice/tiny\nuser alice", "domains": ["repo"], "secret": "x"},
    )
    hook = alice.webhooks.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/settings/webhooks/{hook.pk}"
    assert [(w.kind, w.name) for w in hook.watched.all()] == [("model", "alice/tiny"), ("user", "alice")]
    listing = page.get("/settings/webhooks").content.decode()
    assert f'<a href="/settings/webhooks/{hook.pk}">{receiver.url}</a>' in listing


def test_discussion_domain_only_hooks_hear_nothing_of_commits(
    alice, repo, receiver, django_capture_on_commit_callbacks
):
    _hook(alice, receiver, domains=["discussion"])
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(repo, alice, {"a.txt": b"hello"})
    assert receiver.received == []


def test_namespace_hooks_hear_of_new_repositories_and_moves(alice, receiver, django_capture_on_commit_callbacks):
    from registry.services.repos import repo_move

    _hook(alice, receiver, watched=[{"type": "user", "name": "alice"}])
    with django_capture_on_commit_callbacks(execute=True):
        made = make_repo(alice, "fresh")
    with django_capture_on_commit_callbacks(execute=True):
        repo_move(repo=made, user=alice, to_namespace=alice.namespace, to_name="renamed")
    scopes = [(r.json["event"]["action"], r.json["repo"]["name"]) for r in receiver.received]
    assert scopes == [("create", "alice/fresh"), ("move", "alice/fresh")]
    assert receiver.received[1].json["movedTo"] == {"name": "alice/renamed", "owner": {"id": "alice"}}


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/"]
)
def test_private_addresses_are_refused(alice, repo, url):
    api = Client(headers={"authorization": f"Bearer {make_token(alice)}"})
    body = {"url": url, "watched": [{"type": "model", "name": "alice/tiny"}]}
    answer = api.post("/api/v1/webhooks", json.dumps(body), content_type="application/json")
    assert answer.status_code == 400
    assert answer.json()["fields"] == {"url": ["Private address."]}
    assert alice.webhooks.count() == 0


def test_only_admins_watch(alice, repo, receiver):
    bob = make_user("bob")
    make_org("acme", admin=alice, members={"bob": "write"})
    api = Client(headers={"authorization": f"Bearer {make_token(bob)}"})

    def create(watched):
        body = {"url": receiver.url, "watched": [watched]}
        return api.post("/api/v1/webhooks", json.dumps(body), content_type="application/json")

    assert create({"type": "model", "name": "alice/tiny"}).json() == {
        "error": "You are not allowed to administer alice/tiny.",
        "code": "forbidden",
    }
    assert create({"type": "user", "name": "alice"}).status_code == 403
    assert create({"type": "org", "name": "acme"}).json()["error"] == "Watching acme needs the 'admin' role in it."
    made = create({"type": "user", "name": "bob"})
    assert made.status_code == 201
    assert made.json()["watched"] == [{"type": "user", "name": "bob"}]
    # Another person's hook does not exist for them.
    alice_api = Client(headers={"authorization": f"Bearer {make_token(alice)}"})
    assert alice_api.get(f"/api/v1/webhooks/{made.json()['id']}").status_code == 404


def test_private_repositories_reach_only_hooks_whose_owner_can_still_read_them(
    alice, receiver, django_capture_on_commit_callbacks
):
    bob = make_user("bob")
    acme = make_org("acme", admin=alice, members={"bob": "admin"})
    private = make_repo(alice, "secret", namespace=acme.namespace, private=True)
    _hook(bob, receiver, watched=[{"type": "org", "name": "acme"}], secret="")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(private, alice, {"a.txt": b"one"})
    assert len(receiver.received) == 1
    assert "X-Webhook-Signature" not in receiver.received[0].headers  # no secret, no signature

    from hub.services.organizations import membership_remove

    membership_remove(actor=alice, organization=acme, username="bob")
    with django_capture_on_commit_callbacks(execute=True):
        commit_files(private, alice, {"a.txt": b"two"})
    assert len(receiver.received) == 1


def test_discussion_events_carry_the_discussion_and_the_comment(
    alice, repo, receiver, django_capture_on_commit_callbacks
):
    from community.services.discussions import comment_add, discussion_change_status, discussion_create

    bob = make_user("bob")
    _hook(alice, receiver, watched=[{"type": "user", "name": "alice"}], domains=["discussion"])
    with django_capture_on_commit_callbacks(execute=True):
        opened = discussion_create(repo=repo, user=bob, title="Typo", description="In the card.", pull_request=False)
    with django_capture_on_commit_callbacks(execute=True):
        comment = comment_add(discussion=opened, user=alice, content="Fixed, thanks.")
    with django_capture_on_commit_callbacks(execute=True):
        discussion_change_status(discussion=opened, user=alice, status="closed")

    payloads = [WebhookPayload.model_validate(r.json) for r in receiver.received]
    assert [(p.event.action, p.event.scope) for p in payloads] == [
        ("create", "discussion"),
        ("create", "discussion.comment"),
        ("update", "discussion"),
    ]
    assert [p.discussion.status for p in payloads] == ["open", "open", "closed"]
    first = payloads[0].discussion
    assert (first.num, first.title, first.isPullRequest, first.author.id) == (opened.num, "Typo", False, str(bob.pk))
    assert first.url.web == f"http://127.0.0.1:8000/alice/tiny/discussions/{opened.num}"
    assert payloads[1].comment.id == str(comment.pk)
    assert (payloads[1].comment.content, payloads[1].comment.hidden) == ("Fixed, thanks.", False)
    assert payloads[1].comment.author.id == str(alice.pk)
    assert payloads[0].comment is None
    assert payloads[0].repo.name == "alice/tiny"


def test_the_rest_api_lists_changes_tests_and_logs_a_hook(alice, repo, receiver, django_capture_on_commit_callbacks):
    api = Client(headers={"authorization": f"Bearer {make_token(alice)}"})
    body = {"url": receiver.url, "watched": [{"type": "model", "name": "alice/tiny"}], "secret": SECRET}
    made = api.post("/api/v1/webhooks", json.dumps(body), content_type="application/json").json()
    assert (made["domains"], made["has_secret"], made["disabled"]) == (["discussion", "repo"], True, False)
    assert [hook["id"] for hook in api.get("/api/v1/webhooks").json()["results"]] == [made["id"]]

    changed = api.patch(
        f"/api/v1/webhooks/{made['id']}", json.dumps({"domains": ["repo"]}), content_type="application/json"
    )
    assert changed.json()["domains"] == ["repo"]
    assert changed.json()["watched"] == [{"type": "model", "name": "alice/tiny"}]

    with django_capture_on_commit_callbacks(execute=True):
        tested = api.post(f"/api/v1/webhooks/{made['id']}/test")
    assert tested.status_code == 201
    assert (tested.json()["scope"], tested.json()["state"]) == ("webhook.test", "pending")
    log = api.get(f"/api/v1/webhooks/{made['id']}/deliveries").json()["results"]
    assert [(d["scope"], d["state"], d["attempts"]) for d in log] == [("webhook.test", "succeeded", 1)]
    (attempt,) = log[0]["log"]
    assert (attempt["number"], attempt["status_code"], attempt["retry_in"]) == (1, 200, None)
    assert attempt["request_headers"]["X-Webhook-Secret"] == "…"
    assert receiver.received[0].signature_valid(SECRET)

    # Read tokens read; they change nothing.
    reader = Client(headers={"authorization": f"Bearer {make_token(alice, role='read', name='r')}"})
    assert reader.get(f"/api/v1/webhooks/{made['id']}").status_code == 200
    assert reader.delete(f"/api/v1/webhooks/{made['id']}").status_code == 403
    assert api.delete(f"/api/v1/webhooks/{made['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{made['id']}").status_code == 404


def test_checks_and_finished_runs_reach_the_repositorys_hooks(
    alice, repo, receiver, django_capture_on_commit_callbacks
):
    _hook(alice, receiver)
    head = repo.refs.get(name="refs/heads/main").target_oid
    with django_capture_on_commit_callbacks(execute=True):
        check_report(repo=repo, user=alice, commit_oid=head, name="ci", state="failure", summary="2 tests failed")
    [request] = receiver.received
    assert request.headers["X-Webhook-Event"] == "repo.check"
    assert request.json["check"] == {
        "name": "ci", "state": "failure", "summary": "2 tests failed", "commit": head, "detailsUrl": "",
    }  # fmt: skip
    assert WebhookPayload.model_validate(request.json).event.scope == "repo.check"

    run = Run.objects.create(
        kind=RunKind.EVALUATION, user=alice, model_repo=repo, queued_at=timezone.now(), reason="Submitted."
    )
    with django_capture_on_commit_callbacks(execute=True):
        run_cancel(run_id=run.pk, user=alice)
    request = receiver.received[-1]
    assert request.headers["X-Webhook-Event"] == "repo.run"
    assert (request.json["repo"]["name"], request.json["run"]["id"], request.json["run"]["state"]) == (
        "alice/tiny", str(run.pk), "cancelled",
    )  # fmt: skip
    assert request.json["run"]["url"]["web"].endswith(f"/runs/{run.pk}")
