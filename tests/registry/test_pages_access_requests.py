"""Gated access on the pages: the access form built from the card, the requester's status on the
repository page, and the admins' review page in the repository's settings."""

import pytest
from django.test import Client
from pytest_django.asserts import assertInHTML

from registry.models import AccessRequest
from registry.services.access_requests import access_request_decide
from registry.services.repos import repo_update_settings
from tests.frontend.builders import commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org, make_user
from tests.support.html import without_csrf

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

CARD = b"""---
extra_gated_prompt: "Read the **licence** first. <script>alert(1)</script>"
extra_gated_button_content: Ask the authors
extra_gated_fields:
  Affiliation: text
  Start date: date_picker
  Use:
    type: select
    options: [Research, {label: Teaching, value: teach}]
  I accept the terms: checkbox
  Country: country
  Broken: {type: hologram}
---
# Tiny
"""
ANSWERS = {"field_0": "Uni", "field_1": "2026-01-31", "field_2": "teach", "field_3": "on", "field_4": "Norway"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def carol():
    return make_user("carol")


@pytest.fixture
def gated(alice):
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": CARD, "weights.bin": b"weights"})
    repo_update_settings(repo=repo, gated="manual")
    return repo


def test_the_repository_page_asks_the_cards_questions(gated, bob):
    response = logged_in(bob).get("/alice/tiny")
    form = response.context["gate"]["form"]
    assert [(f.label, type(f).__name__) for f in form.fields.values()] == [
        ("Affiliation", "CharField"),
        ("Start date", "DateField"),
        ("Use", "ChoiceField"),
        ("I accept the terms", "BooleanField"),
        ("Country", "ChoiceField"),
    ]
    assert form.fields["field_2"].choices == [("", "—"), ("Research", "Research"), ("teach", "Teaching")]
    assert ("Norway", "Norway") in form.fields["field_4"].choices
    html = response.content.decode()
    assert 'action="/alice/tiny/ask-access"' in html
    assert "Ask the authors</button>" in html
    # The prompt is markdown, rendered and sanitised.
    assert "Read the <strong>licence</strong> first." in html
    assert "<script>alert(1)" not in html


def test_anonymous_visitors_are_asked_to_log_in(gated):
    html = Client().get("/alice/tiny").content.decode()
    assert 'id="gate-form"' not in html
    assert "/login?next=/alice/tiny" in html
    assert Client().post("/alice/tiny/ask-access", ANSWERS)["Location"].startswith("/login")


def test_a_request_keeps_the_answers_by_label_and_shows_pending(gated, bob):
    client = logged_in(bob)
    response = client.post("/alice/tiny/ask-access", ANSWERS)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny")
    made = AccessRequest.objects.get(repo=gated, user=bob)
    assert (made.status, made.fields) == (
        "pending",
        {
            "Affiliation": "Uni",
            "Start date": "2026-01-31",
            "Use": "teach",
            "I accept the terms": True,
            "Country": "Norway",
        },
    )
    html = client.get("/alice/tiny").content.decode()
    assert 'data-status="pending"' in html
    assert 'id="gate-form"' not in html
    assert client.get("/alice/tiny/raw/main/weights.bin").status_code == 403


def test_missing_answers_and_unticked_boxes_are_refused(gated, bob):
    response = logged_in(bob).post("/alice/tiny/ask-access", {**ANSWERS, "field_0": " ", "field_3": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"field_0", "field_3"}
    response = logged_in(bob).post("/alice/tiny/ask-access", {**ANSWERS, "field_2": "war"})
    assert set(response.context["form"].errors) == {"field_2"}
    assert AccessRequest.objects.count() == 0


def test_auto_gating_serves_the_files_at_once(gated, bob):
    repo_update_settings(repo=gated, gated="auto")
    client = logged_in(bob)
    client.post("/alice/tiny/ask-access", ANSWERS)
    assert 'data-status="accepted"' in client.get("/alice/tiny").content.decode()
    response = client.get("/alice/tiny/raw/main/weights.bin")
    assert (response.status_code, b"".join(response.streaming_content)) == (200, b"weights")


def test_the_review_page_lists_and_decides(gated, alice, bob, carol):
    logged_in(bob).post("/alice/tiny/ask-access", ANSWERS)
    logged_in(carol).post("/alice/tiny/ask-access", ANSWERS)
    admin = logged_in(alice)
    html = admin.get("/alice/tiny").content.decode()
    assert 'id="gate-pending">2 pending' in html
    assert 'href="/alice/tiny/settings/access-requests" id="tab-access-requests"' in html
    assert 'id="tab-access-requests"' not in logged_in(bob).get("/alice/tiny").content.decode()
    page = admin.get("/alice/tiny/settings/access-requests")
    lists = {str(status): [r.user.username for r in requests] for status, requests in page.context["lists"]}
    assert lists == {"pending": ["bob", "carol"], "accepted": [], "rejected": []}
    assert "Teaching" not in page.content.decode()
    assert "teach" in page.content.decode()

    bob_request = AccessRequest.objects.get(user=bob)
    carol_request = AccessRequest.objects.get(user=carol)
    # A pending row offers Accept and Reject (with its reason box), posting to the page itself.
    rows = without_csrf(page.content.decode())
    assertInHTML(
        f"""<form method="post" class="form-inline"><input type="hidden" name="action" value="accepted">
        <input type="hidden" name="request" value="{bob_request.pk}">
        <button type="submit" class="button button-small" aria-label="Accept bob">Accept</button></form>""",
        rows,
    )
    assertInHTML(
        f"""<form method="post" class="form-inline"><input type="hidden" name="action" value="rejected">
        <input type="hidden" name="request" value="{carol_request.pk}">
        <label class="visually-hidden" for="reason-{carol_request.pk}">Reason for rejecting carol</label>
        <input type="text" id="reason-{carol_request.pk}" name="reason" maxlength="{page.context["max_reason"]}"
          placeholder="Reason (optional)">
        <button type="submit" class="button button-small button-secondary" aria-label="Reject carol">Reject</button>
        </form>""",
        rows,
    )
    assert 'value="pending"' not in rows
    url = "/alice/tiny/settings/access-requests"
    assert admin.post(url, {"request": bob_request.pk, "action": "accepted"}).status_code == 302
    admin.post(url, {"request": carol_request.pk, "action": "rejected", "reason": "Incomplete answers."})
    carol_request.refresh_from_db()
    assert (carol_request.status, carol_request.reason, carol_request.decided_by) == (
        "rejected",
        "Incomplete answers.",
        alice,
    )
    assert logged_in(bob).get("/alice/tiny/raw/main/weights.bin").status_code == 200
    carol_page = logged_in(carol).get("/alice/tiny").content.decode()
    assert 'data-status="rejected"' in carol_page
    assert "Incomplete answers." in carol_page

    accepted_row = without_csrf(admin.get(url).content.decode())
    assertInHTML(
        f"""<form method="post" class="form-inline"><input type="hidden" name="action" value="pending">
        <input type="hidden" name="request" value="{bob_request.pk}">
        <button type="submit" class="button button-small button-secondary" aria-label="Move bob back to pending">
        Back to pending</button></form>""",
        accepted_row,
    )
    admin.post(url, {"request": bob_request.pk, "action": "pending"})
    assert logged_in(bob).get("/alice/tiny/raw/main/weights.bin").status_code == 403

    dave = make_user("dave")
    admin.post(url, {"action": "grant", "user": "dave"})
    assert AccessRequest.objects.get(user=dave).status == "accepted"
    page = admin.get(url)
    lists = {str(status): [r.user.username for r in requests] for status, requests in page.context["lists"]}
    assert lists == {"pending": ["bob"], "accepted": ["dave"], "rejected": ["carol"]}


def test_only_admins_see_the_review_page(gated, alice, bob):
    url = "/alice/tiny/settings/access-requests"
    assert Client().get(url)["Location"].startswith("/login")
    assert logged_in(bob).get(url).status_code == 403
    assert logged_in(bob).post(url, {"action": "grant", "user": "bob"}).status_code == 403
    assert AccessRequest.objects.count() == 0
    org = make_org("lab", admin=alice, members={"bob": "write"})
    repo = make_repo(alice, "secret", namespace=org.namespace, private=True)
    repo_update_settings(repo=repo, gated="manual")
    assert logged_in(make_user("eve")).get("/lab/secret/settings/access-requests").status_code == 404
    assert logged_in(bob).get("/lab/secret/settings/access-requests").status_code == 403
    assert logged_in(alice).get("/lab/secret/settings/access-requests").status_code == 200


def test_members_and_repositories_without_a_gate_have_no_form(gated, alice):
    assert logged_in(alice).post("/alice/tiny/ask-access", ANSWERS).status_code == 409
    reader = make_user("reader")
    org = make_org("lab", admin=alice, members={"reader": "read"})
    repo = make_repo(alice, "shared", namespace=org.namespace)
    repo_update_settings(repo=repo, gated="auto")
    html = logged_in(reader).get("/lab/shared").content.decode()
    assert 'data-status="member"' in html
    assert 'id="gate-form"' not in html
    repo_update_settings(repo=gated, gated=False)
    assert logged_in(alice).get("/alice/tiny").context["gate"] is None
    assert logged_in(make_user("bob")).get("/alice/tiny/ask-access").status_code == 400


def test_deciding_twice_is_not_found(gated, alice, bob):
    logged_in(bob).post("/alice/tiny/ask-access", ANSWERS)
    made = AccessRequest.objects.get(user=bob)
    access_request_decide(repo=gated, request=made, status="accepted", by=alice)
    response = logged_in(alice).post("/alice/tiny/settings/access-requests", {"request": made.pk, "action": "accepted"})
    assert response.status_code == 404
