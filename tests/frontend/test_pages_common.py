"""What every page shares: the security headers, routing around the hub's own pages, helpers."""

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from frontend.security import CONTENT_SECURITY_POLICY
from tests.frontend.builders import fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.mark.parametrize("url", ["/", "/models", "/alice", "/alice/tiny", "/alice/tiny/tree/main"])
def test_pages_send_the_content_security_policy(url):
    make_repo(make_user("alice"), "tiny")
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"


def test_policy_allows_only_the_hubs_own_scripts():
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_repository_routes_do_not_shadow_the_hubs_pages():
    alice = make_user("alice")
    client = Client()
    client.force_login(alice)
    assert client.get("/settings/profile").templates[0].name == "hub/settings_profile.html"
    assert client.get("/organizations/new").templates[0].name == "hub/organization_new.html"
    assert client.get("/settings/tokens").status_code == 200


def render(source: str, **context) -> str:
    return Template("{% load hub_pages %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (31_457_280, "31.5 MB"), (2 * 10**9, "2.0 GB"), ("x", "")],
)
def test_size_filter(value, expected):
    assert render("{{ value|size }}", value=value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(950, "950"), (12_345, "12.3K"), (124_439_808, "124M"), (1_235_000_000, "1.2B"), (7 * 10**12, "7.0T")],
)
def test_params_filter(value, expected):
    assert render("{{ value|params }}", value=value) == expected


def test_repo_url_quotes_revision_and_path():
    repo = make_repo(make_user("alice"), "tiny")
    assert render("{% repo_url repo 'blob' 'feature/x' 'a b/#1.txt' %}", repo=repo) == (
        "/alice/tiny/blob/feature/x/a%20b/%231.txt"
    )


def test_query_helpers_keep_other_filters():
    request = RequestFactory().get("/models?tag=a&tag=b&tag=c&license=mit&p=3")
    assert render("{% query_without 'tag' 'a' %}", request=request) == "?tag=b&amp;tag=c&amp;license=mit"
    assert render("{% query_without 'license' %}", request=request) == "?tag=a&amp;tag=b&amp;tag=c"
    assert render("{% query_add 'tag' 'd' %}", request=request) == (
        "?tag=a&amp;tag=b&amp;tag=c&amp;tag=d&amp;license=mit"
    )
