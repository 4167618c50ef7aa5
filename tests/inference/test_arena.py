"""The arena over a real engine: battles, streamed anonymous answers, one vote, caps, ratings,
the board and the anonymised vote log."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.factories import make_user
from tests.support.inference import publish_model
from training_runner.inference.models import ArenaRating, Battle, Vote
from training_runner.inference.selectors import arena_ratings_for

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture
def contestants(live_inference, model_dirs):
    alice = make_user("alice")
    one = publish_model(alice, "one", model_dirs["llama"])
    two = publish_model(alice, "two", model_dirs["llama2"])
    publish_model(alice, "hidden", model_dirs["nochat"], private=True)
    publish_model(alice, "bert", model_dirs["mlm"])
    return one, two


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def play(client, prompt="alpha beta"):
    created = post(client, "/api/v1/arena/battles", {"prompt": prompt})
    assert created.status_code == 201
    battle = created.json()["battle"]
    answers = {}
    for side in "ab":
        response = post(client, f"/api/v1/arena/battles/{battle}/answers/{side}")
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        answers[side] = b"".join(response.streaming_content).decode()
    return battle, answers


def test_a_battle_from_prompt_to_rating(client, contestants):
    one, two = contestants
    voter = make_user("carol")
    client.force_login(voter)
    created = post(client, "/api/v1/arena/battles", {"prompt": "alpha beta"})
    battle_id = created.json()["battle"]
    early = post(client, f"/api/v1/arena/battles/{battle_id}/vote", {"outcome": "a"})
    assert (early.status_code, early.json()["code"]) == (409, "battle_not_ready")

    answers = {}
    for side in "ab":
        response = post(client, f"/api/v1/arena/battles/{battle_id}/answers/{side}")
        answers[side] = b"".join(response.streaming_content).decode()
    battle = Battle.objects.get(pk=battle_id)
    assert {battle.model_a_id, battle.model_b_id} == {one.pk, two.pk}
    assert (battle.answer_a, battle.answer_b, battle.done_a, battle.done_b) == (answers["a"], answers["b"], True, True)
    replay = post(client, f"/api/v1/arena/battles/{battle_id}/answers/a")
    assert b"".join(replay.streaming_content).decode() == answers["a"]

    vote = post(client, f"/api/v1/arena/battles/{battle_id}/vote", {"outcome": "a"})
    assert vote.status_code == 201
    assert vote.json() == {
        "outcome": "a", "counted": True, "model_a": battle.model_a.repo_id, "model_b": battle.model_b.repo_id,
    }  # fmt: skip
    again = post(client, f"/api/v1/arena/battles/{battle_id}/vote", {"outcome": "b"})
    assert (again.status_code, again.json()["code"]) == (409, "conflict")

    ratings = arena_ratings_for(repos=[one, two])
    winner, loser = ratings[battle.model_a_id], ratings[battle.model_b_id]
    assert winner.rating > 1000 > loser.rating
    assert winner.rating + loser.rating == pytest.approx(2000)
    assert (winner.battles, loser.battles) == (1, 1)

    board = client.get("/arena/board")
    assert board.status_code == 200
    assert [row.repo.repo_id for row in board.context["rows"]] == [battle.model_a.repo_id, battle.model_b.repo_id]

    log = client.get("/arena/votes.csv")
    rows = list(csv.reader(io.StringIO(b"".join(log.streaming_content).decode())))
    assert rows[0] == ["battle", "day", "voter", "model_a", "model_b", "outcome", "counted"]
    assert rows[1][0] == battle_id
    assert rows[1][3:] == [battle.model_a.repo_id, battle.model_b.repo_id, "a", "True"]
    assert len(rows[1][2]) == 16
    assert "carol" not in rows[1][2]
    assert "alpha" not in b"".join(client.get("/arena/votes.csv").streaming_content).decode()


def test_votes_past_the_pair_cap_are_logged_not_counted_and_full_pairs_are_not_drawn(client, contestants, settings):
    settings.HUB_ARENA_PAIR_VOTE_CAP = 1
    client.force_login(make_user("dave"))
    first, _ = play(client)
    second, _ = play(client)  # drawn before the first vote
    assert post(client, f"/api/v1/arena/battles/{first}/vote", {"outcome": "tie"}).json()["counted"] is True
    late = post(client, f"/api/v1/arena/battles/{second}/vote", {"outcome": "both_bad"})
    assert late.json()["counted"] is False
    assert list(Vote.objects.order_by("created_at").values_list("counted", flat=True)) == [True, False]
    refused = post(client, "/api/v1/arena/battles", {"prompt": "more"})
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "You have voted 1 times on every pair of models; thank you!",
        "code": "arena_unavailable",
    }
    assert ArenaRating.objects.count() == 2


def test_battles_belong_to_their_voter_and_need_a_session(client, contestants):
    client.force_login(make_user("erin"))
    battle, _ = play(client)
    wrong = post(client, f"/api/v1/arena/battles/{battle}/answers/c")
    assert wrong.json() == {"error": "side must be a or b.", "code": "invalid", "fields": {"side": ["a or b"]}}
    odd = post(client, f"/api/v1/arena/battles/{battle}/vote", {"outcome": "maybe"})
    assert (odd.status_code, odd.json()["error"]) == (400, "outcome must be one of a, b, tie, both_bad.")
    client.force_login(make_user("frank"))
    stolen = post(client, f"/api/v1/arena/battles/{battle}/vote", {"outcome": "a"})
    assert (stolen.status_code, stolen.json()["code"]) == (404, "battle_not_found")
    client.logout()
    anonymous = post(client, "/api/v1/arena/battles", {"prompt": "alpha"})
    assert anonymous.status_code in (401, 403)
    assert anonymous.json()["code"] in ("unauthenticated", "forbidden")
    client.force_login(make_user("gina"))
    empty = post(client, "/api/v1/arena/battles", {"prompt": "  "})
    assert empty.json() == {
        "error": "prompt must not be empty",
        "code": "invalid",
        "fields": {"prompt": ["prompt must not be empty"]},
    }
