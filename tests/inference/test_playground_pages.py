"""The Playground tab of model pages and its on/off switch."""

from __future__ import annotations

import pytest

from tests.frontend.builders import card, commit_files, make_repo
from tests.support.factories import make_user
from tests.support.inference import publish_model
from training_runner.inference.models import Playground

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def alice(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_user("alice")


def test_an_enabled_model_shows_its_playground_frame(client, alice, model_dirs):
    publish_model(alice, "tiny", model_dirs["llama"])
    page = client.get("/alice/tiny/playground")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        '<iframe class="playground-frame" id="playground-frame" src="/playground/text-generation/alice/tiny/"' in html
    )
    assert 'aria-current="page" id="tab-playground"' in html
    assert "Turn the playground" not in html  # anonymous readers do not get the switch


def test_admins_switch_the_playground_and_others_cannot(client, alice, model_dirs):
    publish_model(alice, "tiny", model_dirs["mlm"], enable=False)
    client.force_login(alice)
    page = client.get("/alice/tiny/playground").content.decode()
    assert 'id="playground-off"' in page
    assert "Turn the playground on" in page
    response = client.post("/alice/tiny/playground/toggle", {"enabled": "on"})
    assert (response.status_code, response["Location"]) == (302, "/alice/tiny/playground")
    assert Playground.objects.get(repo__name="tiny").enabled is True
    assert 'src="/playground/fill-mask/alice/tiny/"' in client.get("/alice/tiny/playground").content.decode()

    client.force_login(make_user("bob"))
    refused = client.post("/alice/tiny/playground/toggle", {"enabled": "off"})
    assert refused.status_code == 403
    assert Playground.objects.get(repo__name="tiny").enabled is True


def test_a_model_without_a_supported_pipeline_says_so(client, alice):
    repo = make_repo(alice, "vision")
    commit_files(repo, alice, {"README.md": card("pipeline_tag: image-classification", "# vision\n")})
    client.force_login(alice)
    page = client.get("/alice/vision/playground").content.decode()
    assert "its card declares the pipeline <code>image-classification</code>" in page
    assert "Turn the playground" not in page
    refused = client.post("/alice/vision/playground/toggle", {"enabled": "on"})
    assert refused.status_code == 400
    assert not Playground.objects.filter(repo=repo).exists()


def test_private_models_have_no_playground_for_outsiders(client, alice, model_dirs):
    publish_model(alice, "secret", model_dirs["llama"], private=True)
    assert client.get("/alice/secret/playground").status_code == 404
    client.force_login(alice)
    assert 'src="/playground/text-generation/alice/secret/"' in client.get("/alice/secret/playground").content.decode()


def test_datasets_have_no_playground_tab(client, alice):
    from registry.choices import RepoType

    make_repo(alice, "data", repo_type=RepoType.DATASET)
    assert 'id="tab-playground"' not in client.get("/datasets/alice/data").content.decode()
