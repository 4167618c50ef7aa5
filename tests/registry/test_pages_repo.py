"""The page of a repository: rendered card, sidebar, snippets, likes, tutorials, visibility, queries."""

import pytest
from django.test import Client

from frontend.security import CONTENT_SECURITY_POLICY
from registry.choices import RepoType
from registry.models import Like, Repo
from tests.frontend.builders import card, commit_files, fast_passwords, make_repo, safetensors_bytes  # noqa: F401
from tests.support.factories import make_org, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

README = card(
    """
license: apache-2.0
tags: [tiny, demo]
pipeline_tag: text-generation
library_name: transformers
base_model: [openai-community/gpt2]
datasets: [alice/stories]
language: [en, fr]
""",
    "# Tiny model\n\nEuler: $e^{i\\pi}+1=0$\n\n```mermaid\ngraph LR; A-->B\n```\n\n![plot](plot.png)\n",
)


@pytest.fixture
def alice():
    return make_user("alice")


@pytest.fixture
def tiny(alice):
    repo = make_repo(alice, "tiny")
    weights = safetensors_bytes({"wte.weight": ("F32", (10, 4)), "ln.bias": ("F16", (4,))})
    commit_files(repo, alice, {"README.md": README, "model.safetensors": weights, "config.json": b'{"a": 1}'})
    return repo


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_model_page_renders_card_sidebar_and_snippets(tiny):
    response = Client().get("/alice/tiny")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = response.content.decode()
    assert '<h1 id="user-content-tiny-model">Tiny model' in html
    assert '<span class="math-inline">e^{i\\pi}+1=0</span>' in html
    assert '<pre class="mermaid">graph LR; A--&gt;B\n</pre>' in html
    assert '<img src="/alice/tiny/resolve/main/plot.png" alt="plot">' in html
    assert '<dt>License</dt><dd><a href="/models?license=apache-2.0">apache-2.0</a></dd>' in html
    assert '<dt>Task</dt><dd><a href="/models?pipeline_tag=text-generation">text-generation</a></dd>' in html
    assert '<li><a href="/openai-community/gpt2">openai-community/gpt2</a></li>' in html
    assert '<li><a href="/datasets/alice/stories">alice/stories</a></li>' in html
    assert "<dt>Languages</dt><dd>en, fr</dd>" in html
    assert '<dd id="parameters">44</dd>' in html
    assert [tag for tag in ("tiny", "demo") if f'<a href="/models?tag={tag}">{tag}</a>' in html] == ["tiny", "demo"]
    snippets = {snippet.key: snippet.code for snippet in response.context["snippets"]}
    assert list(snippets) == ["huggingface_hub", "transformers", "cli"]
    assert snippets["huggingface_hub"] == (
        'import os\nos.environ["HF_ENDPOINT"] = "http://testserver"  # before importing the libraries\n\n'
        'from huggingface_hub import snapshot_download\n\npath = snapshot_download("alice/tiny")\n'
    )
    assert 'model = AutoModelForCausalLM.from_pretrained("alice/tiny")' in snippets["transformers"]
    assert 'pipe = pipeline("text-generation", model="alice/tiny")' in snippets["transformers"]
    assert snippets["cli"] == "HF_ENDPOINT=http://testserver hf download alice/tiny\n"
    assert response.context["overview"].file_count == 4
    assert "Edit the card" not in html


def test_dataset_page_offers_datasets_snippet(alice):
    repo = make_repo(alice, "stories", repo_type=RepoType.DATASET)
    commit_files(repo, alice, {"README.md": card("license: cc-by-4.0", "# Stories\n")})
    response = Client().get("/datasets/alice/stories")
    assert response.status_code == 200
    snippets = {snippet.key: snippet.code for snippet in response.context["snippets"]}
    assert list(snippets) == ["huggingface_hub", "datasets", "cli"]
    assert 'snapshot_download("alice/stories", repo_type="dataset")' in snippets["huggingface_hub"]
    assert 'dataset = load_dataset("alice/stories")' in snippets["datasets"]
    assert Client().get("/alice/stories").status_code == 404


def test_mixed_case_url_redirects_to_the_canonical_one(tiny):
    response = Client().get("/Alice/TINY")
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny")


def test_repository_without_card_invites_writers_only(alice):
    make_repo(alice, "empty")
    anonymous = Client().get("/alice/empty").content.decode()
    owner = logged_in(alice).get("/alice/empty").content.decode()
    assert "No model card yet" in anonymous
    assert "Create the card" not in anonymous
    assert '<a class="button" href="/alice/empty/edit/main/README.md">Create the card</a>' in owner


def test_private_repository_page_is_404_to_outsiders_only(alice):
    bob = make_user("bob")
    org = make_org("acme", admin=alice, members={"bob": "read"})
    make_repo(alice, "secret", private=True)
    make_repo(alice, "plans", namespace=org.namespace, private=True)
    stranger = make_user("stranger")
    for url in ("/alice/secret", "/acme/plans"):
        assert Client().get(url).status_code == 404
        assert logged_in(stranger).get(url).status_code == 404
    assert logged_in(alice).get("/alice/secret").status_code == 200
    assert logged_in(bob).get("/acme/plans").status_code == 200
    assert logged_in(bob).get("/alice/secret").status_code == 404
    # A private repository answers exactly as one that does not exist.
    hidden, missing = Client().get("/alice/secret"), Client().get("/alice/nothing")
    assert hidden.context["error"].message == "Repository alice/secret not found."
    assert missing.context["error"].message == "Repository alice/nothing not found."


def test_repo_page_query_count_does_not_grow_with_files_or_tags(alice, tiny, django_assert_num_queries):
    big = make_repo(alice, "big")
    many_tags = "\n".join(f"  - tag{i}" for i in range(30))
    files = {f"shard-{i}.safetensors": safetensors_bytes({"w": ("F32", (2, 2))}) for i in range(6)}
    readme = card(f"base_model: [openai-community/gpt2]\ntags:\n{many_tags}", "# Big\n")
    commit_files(big, alice, {"README.md": readme, **files})
    client = logged_in(alice)
    client.get("/alice/tiny")  # warm the tree and card caches the same way for both
    client.get("/alice/big")
    # session, user, repository, ref, commit, like state, open discussions on the Community tab,
    # the model tree (the base models its card names, the models fine-tuned from this one), the
    # leaderboards panel (the model's positions, the boards its writer may submit it to), the
    # malware scans of its files and, for its writer, the conversion panel (the default branch's
    # tree, the recent conversions to safetensors)
    with django_assert_num_queries(14):
        assert client.get("/alice/tiny").status_code == 200
    with django_assert_num_queries(14):
        assert client.get("/alice/big").status_code == 200


def test_repo_page_query_count_cold_cache_anonymous(tiny, django_assert_max_num_queries):
    from django.core.cache import cache

    cache.clear()
    # repository, ref, commit, the trees of the revision (one query per level: root), the
    # open discussions on the Community tab, the model tree (base models, fine-tunes) and the
    # model's leaderboard positions, the malware scans of its files
    with django_assert_max_num_queries(9):
        assert Client().get("/alice/tiny").status_code == 200


def test_like_and_unlike_with_json_and_plain_forms(alice, tiny):
    bob = make_user("bob")
    client = logged_in(bob)
    response = client.post("/alice/tiny/like", {"action": "like"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"liked": True, "likes": 1}
    response = client.post("/alice/tiny/like", {"action": "like"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"liked": True, "likes": 1}
    page = client.get("/alice/tiny").content.decode()
    assert '<button type="submit" class="like-button" aria-pressed="true">' in page
    assert '<span class="like-count" aria-label="likes">1</span>' in page
    response = client.post("/alice/tiny/like", {"action": "unlike"})
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny")
    assert Like.objects.filter(repo=tiny).count() == 0
    assert Repo.objects.get(pk=tiny.pk).likes == 0


def test_like_needs_a_login_and_a_visible_repository(alice, tiny):
    response = Client().post("/alice/tiny/like", {"action": "like"})
    assert (response.status_code, response["Location"]) == (302, "/login?next=/alice/tiny")
    response = Client().post("/alice/tiny/like", {"action": "like"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    make_repo(alice, "secret", private=True)
    assert logged_in(make_user("bob")).post("/alice/secret/like", {"action": "like"}).status_code == 404
    assert Like.objects.count() == 0


def test_like_refuses_get(tiny):
    assert Client().get("/alice/tiny/like").status_code == 405


# ------------------------------------------------------------------------------------ tutorials


@pytest.fixture
def tutorial(alice):
    repo = make_repo(alice, "intro", repo_type=RepoType.TUTORIAL)
    commit_files(
        repo, alice,
        {
            "README.md": card(
                "difficulty: beginner\nreading_time: 12\nauthors: [Alice Martin]\nmodels: [alice/tiny]",
                "# Intro to LMs\n\n## Setup\n\nThe loss $L$.\n\n### Details\n\nSee [training](02-training.md) "
                "and [the script](train.py).\n",
            ),
            "02-training.md": b"# Training\n\n## Loss\n\n$$L=-\\log p$$\n",
            "01-data.md": b"Data without a heading.\n",
            "train.py": b"print(1)\n",
        },
    )  # fmt: skip
    return repo


def test_tutorial_reads_as_an_article_with_pages_and_toc(tutorial):
    response = Client().get("/tutorials/alice/intro")
    assert response.status_code == 200
    context = response.context
    assert [(page.path, page.title) for page in context["pages"]] == [
        ("README.md", "Intro to LMs"), ("01-data.md", "Data"), ("02-training.md", "Training"),
    ]  # fmt: skip
    assert [(h.level, h.text, h.anchor) for h in context["article"]["toc"]] == [
        (2, "Setup", "user-content-setup"), (3, "Details", "user-content-details"),
    ]  # fmt: skip
    assert (context["previous_page"], context["next_page"].path) == (None, "01-data.md")
    html = response.content.decode()
    assert (
        '<a href="/tutorials/alice/intro/page/02-training.md" rel="nofollow noopener noreferrer">training</a>' in html
    )
    assert '<a href="/tutorials/alice/intro/page/train.py" rel="nofollow noopener noreferrer">the script</a>' in html
    assert "<dt>Level</dt><dd>beginner</dd>" in html
    assert "<dt>Reading time</dt><dd>12 min</dd>" in html
    assert '<li><a href="/alice/tiny">alice/tiny</a></li>' in html
    assert '<a href="#user-content-details">Details</a>' in html


def test_tutorial_pages_navigate_in_order(tutorial):
    response = Client().get("/tutorials/alice/intro/page/02-training.md")
    assert response.status_code == 200
    assert response.context["previous_page"].path == "01-data.md"
    assert response.context["next_page"] is None
    assert '<div class="math-display">L=-\\log p</div>' in response.content.decode()
    assert '<a href="/tutorials/alice/intro/page/02-training.md" aria-current="page">Training</a>' in (
        response.content.decode()
    )


def test_tutorial_page_routes_other_files_and_refuses_models(tutorial, tiny):
    response = Client().get("/tutorials/alice/intro/page/train.py")
    assert (response.status_code, response["Location"]) == (302, "/tutorials/alice/intro/blob/main/train.py")
    readme = Client().get("/tutorials/alice/intro/page/README.md")
    assert (readme.status_code, readme["Location"]) == (302, "/tutorials/alice/intro")
    assert Client().get("/tutorials/alice/intro/page/missing.md").status_code == 404
    assert Client().get("/alice/tiny/page/README.md").status_code == 404
