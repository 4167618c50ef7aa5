"""File pages: the tree by revision, the file viewer (text, JSON, markdown, images, safetensors,
binary and LFS files), raw files that never run in the hub's origin, gating and visibility."""

import hashlib

import pytest
from django.test import Client

from frontend.security import RAW_FILE_POLICY
from registry.services.refs import branch_create, tag_create
from registry.services.repos import repo_update_settings
from tests.frontend.builders import (  # noqa: F401
    commit_files,
    fast_passwords,
    make_repo,
    png_bytes,
    safetensors_bytes,
)
from tests.support.factories import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

BINARY = bytes(range(256)) * 4
WEIGHTS = safetensors_bytes(
    {"model.embed.weight": ("F32", (16, 8)), "model.norm.bias": ("F16", (8,)), "step": ("I64", ())},
    metadata={"format": "np"},
)


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def repo(alice):
    repo = make_repo(alice, "tiny")
    commit_files(
        repo, alice,
        {
            "README.md": b"# Tiny\n\nSee [the config](config.json).\n",
            "config.json": b'{"hidden_size": 8, "layers": [1, 2]}',
            "src/train.py": b"import os\n\n\ndef main():\n    return '<b>'\n",
            "src/nested/deep.txt": b"deep\n",
            "plot.png": png_bytes(),
            "model.safetensors": WEIGHTS,
            "blob.bin": BINARY,
            "page.html": b"<script>window.pwned = 1</script>",
            "icon.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        },
    )  # fmt: skip
    return repo


def test_tree_lists_folders_first_with_sizes_and_lfs(repo):
    response = Client().get("/alice/tiny/tree/main")
    assert response.status_code == 200
    rows = [(entry["name"], entry["is_file"]) for entry in response.context["entries"]]
    assert rows == [
        ("src", False), (".gitattributes", True), ("blob.bin", True), ("config.json", True), ("icon.svg", True),
        ("model.safetensors", True), ("page.html", True), ("plot.png", True), ("README.md", True),
    ]  # fmt: skip
    html = response.content.decode()
    assert '<a href="/alice/tiny/tree/main/src">src</a>' in html
    assert '<a href="/alice/tiny/blob/main/model.safetensors">model.safetensors</a>' in html
    lfs = [entry["name"] for entry in response.context["entries"] if entry["is_file"] and entry["info"].lfs]
    assert lfs == ["blob.bin", "model.safetensors"]  # by the default .gitattributes patterns
    assert html.count('<span class="badge" title="Stored with Git LFS">LFS</span>') == 2
    assert '<a href="/alice/tiny/resolve/main/config.json?download=true" download' in html


def test_tree_of_a_subfolder_has_breadcrumbs(repo):
    response = Client().get("/alice/tiny/tree/main/src")
    assert [entry["name"] for entry in response.context["entries"]] == ["nested", "train.py"]
    assert response.context["crumbs"] == [("src", "src")]
    deep = Client().get("/alice/tiny/tree/main/src/nested")
    assert deep.context["crumbs"] == [("src", "src"), ("nested", "src/nested")]
    assert '<a href="/alice/tiny/tree/main/src">src</a>' in deep.content.decode()


def test_tree_follows_branches_with_slashes_tags_and_commits(alice, repo):
    branch_create(repo=repo, branch="feature/x")
    result = commit_files(repo, alice, {"only-on-branch.txt": b"x"}, branch="feature/x")
    tag_create(repo=repo, tag="v1.0", revision="main")
    on_branch = Client().get("/alice/tiny/tree/feature/x/src")
    assert on_branch.status_code == 200
    assert (on_branch.context["rev"], on_branch.context["path"]) == ("feature/x", "src")
    names = [e["name"] for e in Client().get("/alice/tiny/tree/feature/x").context["entries"]]
    assert "only-on-branch.txt" in names
    tagged = Client().get("/alice/tiny/tree/v1.0")
    assert "only-on-branch.txt" not in [e["name"] for e in tagged.context["entries"]]
    by_commit = Client().get(f"/alice/tiny/tree/{result.commit.oid[:10]}")
    assert by_commit.context["revision"].commit.oid == result.commit.oid
    html = on_branch.content.decode()
    assert '<a href="/alice/tiny/tree/v1.0/src"><span class="badge">tag</span> v1.0</a>' in html
    assert (
        '<a href="/alice/tiny/tree/feature/x/src" aria-current="true"><span class="badge">branch</span> feature/x</a>'
        in html
    )


def test_tree_of_a_file_redirects_and_missing_paths_are_404(repo):
    response = Client().get("/alice/tiny/tree/main/config.json")
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/blob/main/config.json")
    assert Client().get("/alice/tiny/tree/main/nope").status_code == 404
    assert Client().get("/alice/tiny/tree/nobranch").status_code == 404


def test_text_file_is_highlighted_with_line_numbers(repo):
    response = Client().get("/alice/tiny/blob/main/src/train.py")
    assert response.context["view"]["kind"] == "text"
    lines = response.context["view"]["lines"]
    assert len(lines) == 5
    assert lines[4] == ('    <span class="k">return</span> <span class="s1">\'&lt;b&gt;\'</span>')
    html = response.content.decode()
    assert '<tr id="L5"><td class="ln"><a href="#L5">5</a></td>' in html
    assert '<a href="/alice/tiny/raw/main/src/train.py">Raw</a>' in html


def test_minified_json_is_pretty_printed(repo):
    response = Client().get("/alice/tiny/blob/main/config.json")
    lines = response.context["view"]["lines"]
    assert len(lines) == 7
    assert lines[1] == (
        '<span class="w">  </span><span class="nt">"hidden_size"</span><span class="p">:</span>'
        '<span class="w"> </span><span class="mi">8</span><span class="p">,</span>'
    )


def test_long_text_files_show_their_first_lines_and_link_to_the_raw_file(alice):
    import json

    from registry.views.common import MAX_VIEW_LINES

    vocab = {f"token{number}": number for number in range(7_000)}
    tokenizer = json.dumps({"model": {"type": "BPE", "vocab": vocab}}, separators=(",", ":")).encode()
    assert len(tokenizer) > 100_000
    repo = make_repo(alice, "tok")
    commit_files(repo, alice, {"tokenizer.json": tokenizer, "short.txt": b"one\ntwo\n"})
    response = Client().get("/alice/tok/blob/main/tokenizer.json")
    view = response.context["view"]
    assert (len(view["lines"]), view["total_lines"], view["truncated"]) == (MAX_VIEW_LINES, 7_007, True)
    html = response.content.decode()
    assert len(html) < 150_000  # 110 kB of JSON no longer makes megabytes of HTML
    assert f'<tr id="L{MAX_VIEW_LINES}">' in html
    assert f'<tr id="L{MAX_VIEW_LINES + 1}">' not in html
    assert '<span id="line-count">7,007 lines</span>' in html
    assert (
        '<p class="file-truncated" id="file-truncated">Showing the first 500 of 7,007 lines. '
        '<a href="/alice/tok/raw/main/tokenizer.json">View raw</a> or '
        '<a href="/alice/tok/resolve/main/tokenizer.json?download=true" download>download</a> the whole file.</p>'
    ) in html
    short = Client().get("/alice/tok/blob/main/short.txt")
    assert (short.context["view"]["total_lines"], short.context["view"]["truncated"]) == (2, False)
    assert 'id="file-truncated"' not in short.content.decode()


def test_one_enormous_line_is_cut_too(alice):
    from registry.views.common import MAX_VIEW_CHARS

    repo = make_repo(alice, "wide")
    commit_files(repo, alice, {"data.csv": b"x," * 200_000})
    view = Client().get("/alice/wide/blob/main/data.csv").context["view"]
    assert (len(view["lines"]), len(view["lines"][0]), view["truncated"]) == (1, MAX_VIEW_CHARS, True)


def test_markdown_file_renders_and_shows_source_on_request(repo):
    rendered = Client().get("/alice/tiny/blob/main/README.md")
    assert rendered.context["view"]["kind"] == "markdown"
    assert (
        '<a href="/alice/tiny/blob/main/config.json" rel="nofollow noopener noreferrer">the config</a>'
        in rendered.content.decode()
    )
    source = Client().get("/alice/tiny/blob/main/README.md?plain=1")
    assert source.context["view"]["kind"] == "text"


def test_image_is_shown_from_the_raw_url(repo):
    response = Client().get("/alice/tiny/blob/main/plot.png")
    assert response.context["view"] == {"kind": "image"}
    assert '<img src="/alice/tiny/raw/main/plot.png" alt="plot.png">' in response.content.decode()


def test_safetensors_header_summary(repo):
    response = Client().get("/alice/tiny/blob/main/model.safetensors")
    summary = response.context["view"]["summary"]
    assert [(t.name, t.dtype, t.shape, t.parameters) for t in summary.tensors] == [
        ("model.embed.weight", "F32", (16, 8), 128), ("model.norm.bias", "F16", (8,), 8), ("step", "I64", (), 1),
    ]  # fmt: skip
    assert summary.parameters == 137
    assert summary.parameters_by_dtype == {"F32": 128, "F16": 8, "I64": 1}
    assert summary.metadata == {"format": "np"}
    html = response.content.decode()
    assert '<dd id="st-parameters">137 (137)</dd>' in html
    assert "<td><code>model.embed.weight</code></td><td><code>[16, 8]</code></td><td>F32</td>" in html
    assert f'<code id="file-sha256">{hashlib.sha256(WEIGHTS).hexdigest()}</code>' in html


def test_binary_lfs_file_shows_size_and_sha256(repo):
    response = Client().get("/alice/tiny/blob/main/blob.bin")
    assert response.context["view"] == {"kind": "binary", "note": "This file is binary."}
    html = response.content.decode()
    assert f'<code id="file-sha256">{hashlib.sha256(BINARY).hexdigest()}</code>' in html
    assert '<span id="file-size">1.0 kB</span>' in html


def test_broken_safetensors_says_why(alice):
    broken = make_repo(alice, "broken")
    commit_files(broken, alice, {"bad.safetensors": (1000).to_bytes(8, "little") + b"{}"})
    response = Client().get("/alice/broken/blob/main/bad.safetensors")
    assert response.context["view"] == {
        "kind": "binary", "note": "No summary: The header length runs past the end of the file.",
    }  # fmt: skip


def test_blob_of_a_folder_redirects_to_the_tree(repo):
    response = Client().get("/alice/tiny/blob/main/src")
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/tree/main/src")
    assert Client().get("/alice/tiny/blob/main/missing.txt").status_code == 404


def test_edit_link_for_logged_in_visitors_on_branches(alice, repo):
    client = Client()
    client.force_login(alice)
    assert (
        '<a href="/alice/tiny/edit/main/src/train.py">Edit</a>'
        in client.get("/alice/tiny/blob/main/src/train.py").content.decode()
    )
    reader = Client()  # people who cannot write edit too: their change becomes a pull request
    reader.force_login(make_user("reader"))
    assert (
        '<a href="/alice/tiny/edit/main/src/train.py">Edit</a>'
        in reader.get("/alice/tiny/blob/main/src/train.py").content.decode()
    )
    head = repo.refs.get(name="refs/heads/main").target_oid
    at_commit = client.get(f"/alice/tiny/blob/{head}/src/train.py").content.decode()
    assert "/edit/" not in at_commit
    assert "/edit/" not in Client().get("/alice/tiny/blob/main/src/train.py").content.decode()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("page.html", "text/plain; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
        ("config.json", "application/json; charset=utf-8"),
        ("plot.png", "image/png"),
        ("blob.bin", "application/octet-stream"),
        ("src/train.py", "text/plain; charset=utf-8"),
    ],
)
def test_raw_files_are_sandboxed_and_never_html(repo, path, content_type):
    response = Client().get(f"/alice/tiny/raw/main/{path}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Security-Policy"] == RAW_FILE_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"


def test_raw_serves_exact_bytes_and_ranges(repo):
    response = Client().get("/alice/tiny/raw/main/blob.bin", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == BINARY[:10]


def test_private_repository_files_are_404_to_outsiders(alice):
    secret = make_repo(alice, "secret", private=True)
    commit_files(secret, alice, {"w.txt": b"private weights"})
    stranger = Client()
    stranger.force_login(make_user("stranger"))
    for client in (Client(), stranger):
        for url in ("/alice/secret/tree/main", "/alice/secret/blob/main/w.txt", "/alice/secret/raw/main/w.txt",
                    "/alice/secret/commits/main"):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 404, url
            assert b"private weights" not in response.content


def test_gated_repository_shows_its_card_and_file_list_but_not_its_files(alice, repo):
    repo_update_settings(repo=repo, gated="manual")
    assert Client().get("/alice/tiny").status_code == 200
    # The file list is public, as on the Hub; the contents are not.
    listing = Client().get("/alice/tiny/tree/main")
    assert listing.status_code == 200
    assert "config.json" in [entry["name"] for entry in listing.context["entries"]]
    for url in ("/alice/tiny/blob/main/config.json", "/alice/tiny/raw/main/config.json"):
        response = Client().get(url)
        assert response.status_code == 403, url
        assert response.context["error"].message == (
            "Access to model alice/tiny is restricted. You must have access to it and be authenticated to access it. "
            "Please log in."
        )
    owner = Client()
    owner.force_login(alice)
    assert owner.get("/alice/tiny/blob/main/config.json").status_code == 200


def test_tree_and_blob_query_counts(alice, repo, django_assert_num_queries):
    client = Client()
    client.force_login(alice)
    client.get("/alice/tiny/tree/main")
    # session, user, repository, ref, commit, the malware scans of the files, the refs of the menu,
    # like state, open discussions
    with django_assert_num_queries(9):
        client.get("/alice/tiny/tree/main")
    with django_assert_num_queries(10):  # plus one: which refs could hold a '/' of the path
        client.get("/alice/tiny/blob/main/src/train.py")
