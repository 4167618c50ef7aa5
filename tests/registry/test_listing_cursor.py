"""Keyset pages of the HF listings (``/api/models`` …): the Link header's ``cursor`` carries the
last row's sort values, so every page costs what the first does; row offsets still work; a
cursor that is not one, or one made for another order, is a 400."""

import base64
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.choices import RepoType
from registry.models import Repo
from registry.services.repos import repo_create
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<([^>]+)>; rel="next"')


@pytest.fixture
def repos():
    """Eight models with ties in every sort key, so pages end inside runs of equal values."""
    alice = make_user("alice")
    bob = make_user("bob")
    now = timezone.now().replace(microsecond=123456)
    names = []
    for index in range(8):
        owner = alice if index % 2 else bob
        repo = repo_create(user=owner, namespace=owner.namespace, name=f"tiny-{index}", repo_type=RepoType.MODEL)
        Repo.objects.filter(pk=repo.pk).update(
            trending_score=[3.5, 1.25, 3.5, 0.0][index % 4],
            downloads=[10, 10, 7][index % 3],
            likes=index // 3,
            last_modified=now - timedelta(seconds=index // 2),
            created_at=now - timedelta(microseconds=index % 3),
        )
        names.append(repo.repo_id)
    repo_create(user=alice, namespace=alice.namespace, name="tiny-data", repo_type=RepoType.DATASET)
    repo_create(user=alice, namespace=alice.namespace, name="secret-tiny", repo_type=RepoType.MODEL, private=True)
    return names


def _walk(client: Client, url: str) -> tuple[list[str], list[str]]:
    """Every id the listing gives by following its next links, and the cursors it used."""
    ids, cursors = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        ids += [item["id"] for item in response.json()]
        found = LINK.fullmatch(response.headers.get("Link", ""))
        url = found.group(1) if found else None
        if url:
            cursors.append(re.search(r"[?&]cursor=([^&]+)", url).group(1))
    return ids, cursors


@pytest.mark.parametrize("sort", ["", "downloads", "likes", "lastModified", "createdAt", "trendingScore"])
@pytest.mark.parametrize("search", ["", "tiny"])
def test_pages_follow_the_order_without_gaps_or_repeats(repos, sort, search):
    client = Client()
    query = f"sort={sort}&search={search}"
    whole = [item["id"] for item in client.get(f"/api/models?limit=100&{query}").json()]
    assert sorted(whole) == sorted(repos)  # the dataset and the private model stay out
    paged, cursors = _walk(client, f"/api/models?limit=3&{query}")
    assert paged == whole
    assert len(cursors) == 2
    assert not any(cursor.isdigit() for cursor in cursors)


def test_pages_follow_the_orders_definition(repos):
    by_key = {
        "downloads": lambda r: (r.downloads, r.pk),
        "lastModified": lambda r: (r.last_modified, r.pk),
        "": lambda r: (r.trending_score, r.last_modified, r.pk),
    }
    client = Client()
    for sort, key in by_key.items():
        expected = [r.repo_id for r in sorted(Repo.objects.filter(type="model", private=False), key=key, reverse=True)]
        assert _walk(client, f"/api/models?limit=2&sort={sort}")[0] == expected


def test_a_keyset_page_costs_what_the_first_does(repos):
    client = Client()
    first = client.get("/api/models?limit=2&sort=downloads")
    next_url = LINK.fullmatch(first.headers["Link"]).group(1)
    with CaptureQueriesContext(connection) as on_first:
        client.get("/api/models?limit=2&sort=downloads")
    with CaptureQueriesContext(connection) as on_next:
        page = client.get(next_url)
    assert page.status_code == 200
    # page, tags, head commits: the same three queries, none with an OFFSET
    assert len(on_next.captured_queries) == len(on_first.captured_queries) == 3
    assert not any("OFFSET" in query["sql"] for query in on_next.captured_queries)


def test_row_offsets_still_work(repos):
    client = Client()
    whole = [item["id"] for item in client.get("/api/models?limit=100&sort=likes").json()]
    response = client.get("/api/models?limit=3&sort=likes&cursor=3")
    assert [item["id"] for item in response.json()] == whole[3:6]
    # its next link continues with a keyset cursor
    rest, _cursors = _walk(client, LINK.fullmatch(response.headers["Link"]).group(1))
    assert rest == whole[6:]


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("downloads", "not-a-cursor"),
        ("downloads", "-3"),
        ("downloads", _cursor([1, 2])),
        ("downloads", _cursor({"o": ["-downloads", "-id"], "v": [10]})),
        ("downloads", _cursor({"o": ["-downloads", "-id"], "v": ["10", 4]})),
        ("downloads", _cursor({"o": ["-downloads", "-id"], "v": [10, True]})),
        ("lastModified", _cursor({"o": ["-last_modified", "-id"], "v": ["2026-01-01T00:00:00", 4]})),
    ],
)
def test_a_bad_cursor_is_a_400(repos, sort, cursor):
    response = Client().get(f"/api/models?limit=2&sort={sort}&cursor={cursor}")
    assert response.status_code == 400
    assert "cursor" in response.json()["error"].lower()


def test_a_cursor_of_another_order_is_a_400(repos):
    client = Client()
    first = client.get("/api/models?limit=2&sort=downloads")
    next_url = LINK.fullmatch(first.headers["Link"]).group(1)
    response = client.get(next_url.replace("sort=downloads", "sort=likes"))
    assert response.status_code == 400
    assert "another order" in response.json()["error"]


def test_full_pages_read_every_tree_in_a_few_queries(repos):
    client = Client()
    counts = []
    for limit in (2, 8):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/models?limit={limit}&full=true")
        assert all(item["siblings"] == [{"rfilename": ".gitattributes"}] for item in response.json())
        assert all(item["sha"] for item in response.json())
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("sort", ["", "downloads", "likes", "lastModified", "createdAt"])
def test_offset_pages_read_ids_first_and_keep_the_order(repos, sort):
    from registry.selectors.repos import RepoFilters, RepoListing, repo_list

    alice = Repo.objects.get(name="secret-tiny").namespace.user
    for user in (None, alice):  # alice also sees her private model: visibility in the ids query
        listed = repo_list(user=user, filters=RepoFilters(repo_type=RepoType.MODEL, sort=sort))
        whole = [r.repo_id for r in listed]
        with CaptureQueriesContext(connection) as captured:
            page = [r.repo_id for r in RepoListing(listed)[3:6]]
        assert page == whole[3:6]
        assert len(captured.captured_queries) == 2  # the ids, then their rows
        assert "OFFSET" not in captured.captured_queries[1]["sql"]
        assert [r.repo_id for r in RepoListing(listed)[0:2]] == whole[:2]
    client = Client()
    whole = [item["id"] for item in client.get(f"/api/models?limit=100&sort={sort}").json()]
    assert [item["id"] for item in client.get(f"/api/models?limit=3&sort={sort}&cursor=4").json()] == whole[4:7]
    rest = client.get(f"/api/v1/repos?type=model&sort={sort}&page=2&page_size=3").json()
    assert [item["id"] for item in rest["results"]] == whole[3:6]
    assert rest["count"] == 8
