"""The demo's inference piece: playgrounds on for the demo models, a few arena battles, ratings."""

from __future__ import annotations

import pytest
import torch

from frontend.demo_content.arena import BATTLES, seed_arena
from tests.support.factories import make_org, make_user
from tests.support.inference import publish_model
from tests.support.tiny_models import write_decoder, write_encoder
from training_runner.inference.models import ArenaRating, Battle, Playground, Vote

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo-models")
    return {
        "llama": write_decoder(root / "llama"),
        "llama2": write_decoder(root / "llama2", seed=3),
        "mlm": write_encoder(root / "mlm", head="mlm"),
    }


@pytest.fixture
def people(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    torch.set_num_threads(1)
    users = {name: make_user(name) for name in ("alice", "bob", "carol")}
    org = make_org("open-research", admin=users["alice"], members={"bob": "write", "carol": "read"})
    return users, org


def test_seed_arena_enables_the_demo_models_and_votes_a_few_battles(people, model_dirs):
    users, org = people
    for name, key in (("pocket-llama", "llama"), ("pocket-llama-b", "llama2"), ("pocket-bert", "mlm")):
        publish_model(users["alice"], name, model_dirs[key], enable=False, namespace=org.namespace)
    log = []
    seed_arena(users, log=log.append)
    assert sorted(Playground.objects.filter(enabled=True).values_list("repo__name", flat=True)) == [
        "pocket-bert", "pocket-llama", "pocket-llama-b",
    ]  # fmt: skip
    assert Battle.objects.filter(done_a=True, done_b=True).count() == len(BATTLES)
    assert Vote.objects.filter(counted=True).count() == len(BATTLES)
    assert ArenaRating.objects.count() == 2
    assert log[-1] == f"demo arena: {len(BATTLES)} battles voted, 2 models rated"
    seed_arena(users, log=log.append)  # a second run changes nothing
    assert Battle.objects.count() == len(BATTLES)


def test_seed_arena_without_two_text_generation_models_only_enables_playgrounds(people, model_dirs):
    users, org = people
    publish_model(users["alice"], "pocket-llama", model_dirs["llama"], enable=False, namespace=org.namespace)
    log = []
    seed_arena(users, log=log.append)
    assert log == [
        "demo playground: open-research/pocket-llama (text-generation)",
        "demo arena: 1 text-generation model(s) with the playground on; battles need two",
    ]
    assert Battle.objects.count() == 0
