"""Writing from the browser: the file editor with preview, the upload page, resumable-part status."""

import hashlib
import io
import json

import pytest
from django.test import Client

from registry.models import GitCommit
from registry.selectors.pages import file_read
from registry.services.refs import tag_create
from registry.services.uploads import upload_session_complete, upload_session_put_part, upload_session_start
from registry.trees import tree_lookup
from tests.frontend.builders import card, commit_files, fast_passwords, make_repo  # noqa: F401
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def repo(alice):
    repo = make_repo(alice, "tiny")
    commit_files(repo, alice, {"README.md": card("license: mit", "# Tiny\n"), "w.bin": b"\x00\x01\x02"})
    return repo


@pytest.fixture
def owner(alice):
    client = Client()
    client.force_login(alice)
    return client


def head(repo) -> GitCommit:
    oid = repo.refs.get(name="refs/heads/main").target_oid
    return GitCommit.objects.get(repo=repo, oid=oid)


def text_at(repo, path: str) -> str:
    info = tree_lookup(head(repo).tree_oid, path)
    return file_read(file=info, limit=10**6).decode()


def test_edit_page_loads_the_file(owner, repo):
    response = owner.get("/alice/tiny/edit/main/README.md")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"content": "---\nlicense: mit\n---\n# Tiny\n", "summary": "Update README.md",
                            "parent": head(repo).oid}  # fmt: skip
    assert response.context["is_markdown"] is True


def test_preview_renders_without_committing(owner, repo):
    before = head(repo).oid
    data = {"content": "---\nlicense: mit\n---\n# New $x$\n", "summary": "", "parent": before, "action": "preview"}
    response = owner.post("/alice/tiny/edit/main/README.md", data)
    assert response.status_code == 200
    assert response.context["preview"]["html"] == (
        '<h1 id="user-content-new">New <span class="math-inline">x</span> '
        '<a class="header-anchor" href="#user-content-new" rel="nofollow noopener noreferrer">#</a></h1>\n'
    )
    fragment = owner.post("/alice/tiny/edit/main/README.md", data, HTTP_X_PREVIEW="fragment")
    assert fragment.content.decode() == (
        '<div class="markdown" data-markdown data-math>' + response.context["preview"]["html"] + "</div>\n"
    )
    assert head(repo).oid == before


def test_commit_from_the_editor(alice, owner, repo):
    data = {"content": "---\r\nlicense: mit\r\n---\r\n# Edited\r\n", "summary": "Edit the card",
            "description": "why", "parent": head(repo).oid, "action": "commit"}  # fmt: skip
    response = owner.post("/alice/tiny/edit/main/README.md", data)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny")
    commit = head(repo)
    assert (commit.title, commit.message, commit.author_id) == ("Edit the card", "Edit the card\n\nwhy\n", alice.pk)
    assert text_at(repo, "README.md") == "---\nlicense: mit\n---\n# Edited\n"


def test_creating_a_new_file(owner, repo):
    page = owner.get("/alice/tiny/edit/main/docs/notes.md")
    assert page.context["form"].initial["summary"] == "Create docs/notes.md"
    data = {"content": "notes", "summary": "", "parent": head(repo).oid, "action": "commit"}
    response = owner.post("/alice/tiny/edit/main/docs/notes.md", data)
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/blob/main/docs/notes.md")
    assert head(repo).title == "Create docs/notes.md"
    assert text_at(repo, "docs/notes.md") == "notes"


def test_stale_parent_is_refused_and_nothing_changes(alice, owner, repo):
    stale = head(repo).oid
    commit_files(repo, alice, {"other.txt": b"meanwhile"})
    current = head(repo).oid
    data = {"content": "# Mine\n", "summary": "", "parent": stale, "action": "commit"}
    response = owner.post("/alice/tiny/edit/main/README.md", data)
    assert response.status_code == 400
    (message,) = response.context["form"].non_field_errors()
    assert message.startswith("The branch was updated since you opened this page. Please refresh and try again.")
    assert f"A commit has happened since {stale[:7]}" in message
    assert head(repo).oid == current


def test_invalid_card_metadata_is_shown_on_the_content_field(owner, repo):
    data = {"content": "---\nlicense: not-a-license\n---\n# x\n", "summary": "", "parent": head(repo).oid,
            "action": "commit"}  # fmt: skip
    response = owner.post("/alice/tiny/edit/main/README.md", data)
    assert response.status_code == 400
    (error,) = response.context["form"].errors["content"]
    assert error.startswith("README.md:license: ")
    assert text_at(repo, "README.md") == "---\nlicense: mit\n---\n# Tiny\n"


def test_binary_files_and_tags_cannot_be_edited(owner, repo):
    binary = owner.get("/alice/tiny/edit/main/w.bin")
    assert binary.status_code == 400
    assert binary.context["error"].message == "w.bin is binary or larger than 1048576 bytes: upload a new version."
    tag_create(repo=repo, tag="v1", revision="main")
    tagged = owner.get("/alice/tiny/edit/v1/README.md")
    assert tagged.status_code == 400
    assert tagged.context["error"].message == "'v1' is not a branch: changes are committed to branches."


@pytest.mark.parametrize("url", ["/alice/tiny/edit/main/README.md", "/alice/tiny/upload/main"])
def test_writing_pages_need_a_login_and_readers_may_only_propose(alice, repo, url):
    anonymous = Client().get(url)
    assert (anonymous.status_code, anonymous["Location"]) == (302, f"/login?next={url}")
    stranger = Client()
    stranger.force_login(make_user("bob"))
    response = stranger.get(url)
    assert response.status_code == 200
    assert response.context["destination"].can_commit is False  # changes become pull requests
    secret = make_repo(alice, "secret", private=True)
    assert stranger.get(url.replace("tiny", secret.name)).status_code == 404


def test_org_writer_can_edit_org_repositories(alice):
    writer = make_user("writer")
    org = make_org("acme", admin=alice, members={"writer": "write"})
    repo = make_repo(alice, "shared", namespace=org.namespace)
    client = Client()
    client.force_login(writer)
    assert client.get("/acme/shared/upload/main").status_code == 200
    response = client.post(
        "/acme/shared/edit/main/README.md", {"content": "# Shared\n", "parent": head(repo).oid, "action": "commit"}
    )
    assert response.status_code == 302
    assert head(repo).author_name == "writer"


def test_upload_page_carries_the_endpoints(owner, repo, settings):
    response = owner.get("/alice/tiny/upload/main?path=checkpoints")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-batch-url="/alice/tiny.git/info/lfs/objects/batch"' in html
    assert 'data-commit-url="/api/models/alice/tiny/commit/main"' in html
    assert 'data-parts-url="/alice/tiny/upload-parts"' in html
    assert f'data-lfs-threshold="{settings.HUB_LFS_THRESHOLD_BYTES}"' in html
    assert f'data-parent-commit="{head(repo).oid}"' in html
    assert 'value="checkpoints"' in html
    assert '<input type="file" id="file-input" multiple>' in html
    assert 'role="status" aria-live="polite"' in html


def test_upload_parts_reports_what_an_open_session_received(alice, owner, repo, settings):
    settings.HUB_MULTIPART_CHUNK_BYTES = 4
    data = b"abcdefgh"
    sha256 = hashlib.sha256(data).hexdigest()
    ask = lambda: owner.post(  # noqa: E731
        "/alice/tiny/upload-parts", json.dumps({"oid": sha256, "size": 8}), content_type="application/json"
    )
    assert ask().json() == {"parts": []}
    session = upload_session_start(repo=repo, user=alice, sha256=sha256, size=8)
    upload_session_put_part(session=session, number=2, stream=io.BytesIO(b"efgh"))
    assert ask().json() == {"parts": [2]}
    upload_session_put_part(session=session, number=1, stream=io.BytesIO(b"abcd"))
    assert ask().json() == {"parts": [1, 2]}
    upload_session_complete(session=session)
    assert ask().json() == {"parts": []}


def test_upload_parts_validates_and_checks_access(alice, owner, repo):
    bad = owner.post("/alice/tiny/upload-parts", b"[]", content_type="application/json")
    assert (bad.status_code, bad.json()["error"]) == (400, "The body must be a JSON object with oid and size.")
    bad_oid = owner.post(
        "/alice/tiny/upload-parts", json.dumps({"oid": "x", "size": 1}), content_type="application/json"
    )
    assert (bad_oid.status_code, bad_oid.json()["error"]) == (400, "Invalid object id 'x': expected a sha256 in hex.")
    stranger = Client()
    stranger.force_login(make_user("stranger"))
    body = json.dumps({"oid": "a" * 64, "size": 1})
    # Readers upload for pull requests, so they may ask about their own sessions.
    assert stranger.post("/alice/tiny/upload-parts", body, content_type="application/json").json() == {"parts": []}
    make_repo(alice, "secret", private=True)
    assert stranger.post("/alice/secret/upload-parts", body, content_type="application/json").status_code == 404
    assert Client().post("/alice/tiny/upload-parts", body, content_type="application/json").status_code == 401
