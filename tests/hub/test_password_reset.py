"""Forgotten passwords: Django's password reset, its link sent through the configured email
backend (the console in development, Django's outbox in tests); and the styled page a refused
CSRF check shows."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from hub.models import User
from tests.support.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase"


def test_development_prints_emails_on_the_console():
    from config.settings import base  # the configured value; pytest-django swaps in its outbox

    assert base.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"


def test_log_in_page_offers_a_password_reset():
    html = Client().get("/login").content.decode()
    assert '<a href="/password-reset" id="forgot-password">Forgot your password?</a>' in html


def test_password_reset_sends_a_one_time_link_that_sets_a_new_password():
    alice = make_user("alice")
    client = Client()
    response = client.post("/password-reset", {"email": alice.email.upper()})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent")
    sent = client.get("/password-reset/sent").content.decode()
    assert "a link to choose a new password is on its way. It works once, for 3 days." in sent
    [message] = mail.outbox
    assert (message.to, message.subject) == ([alice.email], "Reset your password on LLM Hub")
    assert "Someone asked to reset the password of the account alice on LLM Hub." in message.body
    link = re.search(r"http://testserver(/password-reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert form.context["validlink"] is True
    set_url = form.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert (done.status_code, done["Location"]) == (302, "/password-reset/done")
    alice.refresh_from_db()
    assert (alice.check_password(NEW_PASSWORD), alice.check_password(DEFAULT_PASSWORD)) == (True, False)
    again = Client().get(link, follow=True)
    assert again.context["validlink"] is False
    assert "It was used already, or it expired." in again.content.decode()


def test_password_reset_tells_nothing_about_unknown_addresses():
    response = Client().post("/password-reset", {"email": "nobody@example.org"})
    assert (response.status_code, response["Location"]) == (302, "/password-reset/sent")
    assert mail.outbox == []
    assert User.objects.count() == 0


def test_a_refused_csrf_check_shows_the_sites_own_page():
    alice = make_user("alice")
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/settings/profile", {"fullname": "Alice"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>This form has expired</h1>" in html
    assert '<link rel="stylesheet" href="/static/hub.css">' in html
    assert "Go back, reload the page and send it again." in html
    scripted = client.post("/settings/profile", {}, HTTP_ACCEPT="application/json")
    assert (scripted.status_code, scripted.json()["code"]) == (403, "csrf_failed")
