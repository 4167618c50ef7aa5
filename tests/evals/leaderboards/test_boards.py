"""Creating boards: who may, what they pin, their columns."""

import pytest

from common.errors import Conflict, PermissionDenied, ValidationError
from evals.leaderboards.services.boards import leaderboard_create
from registry.selectors.revisions import revision_resolve
from tests.support.factories import make_token
from tests.training_runner.jobs.conftest import publish_suite_repo

pytestmark = pytest.mark.django_db


def test_a_board_pins_its_suite_and_lists_its_columns(board, alice):
    suite_repo = board.suite_repo
    assert (board.board_id, board.web_path) == ("acme/letters", "/leaderboards/acme/letters")
    assert (board.suite, board.suite_file) == ("datasets/alice/letters-bench", "suite.yaml")
    assert board.suite_commit == revision_resolve(repo=suite_repo, revision="main").oid
    assert len(board.suite_hash) == 64
    assert board.columns == [
        {"task": "*", "metric": "acc", "higher_is_better": True},
        {"task": "letters", "metric": "acc", "higher_is_better": True},
    ]


def test_only_organization_admins_and_staff_create_boards(alice, acme, bob, shared_data):
    from hub.models import User

    publish_suite_repo(alice)
    carol = User.objects.get(username="carol")
    with pytest.raises(PermissionDenied, match="Only admins of acme"):
        leaderboard_create(user=carol, namespace=acme.namespace, name="b", title="B", suite="bigbench_mc")
    with pytest.raises(PermissionDenied):
        leaderboard_create(user=bob, namespace=bob.namespace, name="b", title="B", suite="bigbench_mc")
    bob.is_staff = True
    board = leaderboard_create(
        user=bob,
        namespace=acme.namespace,
        name="mc",
        title="MC",
        suite="bigbench_mc",
        columns=["*:acc", "bigbench_navigate:acc_norm"],
        limit=2,
    )
    assert [c["task"] + ":" + c["metric"] for c in board.columns] == ["*:acc", "bigbench_navigate:acc_norm"]
    with pytest.raises(Conflict, match="acme already has a leaderboard named mc"):
        leaderboard_create(user=bob, namespace=acme.namespace, name="mc", title="MC", suite="bigbench_mc")
    with pytest.raises(ValidationError) as error:
        leaderboard_create(
            user=bob, namespace=acme.namespace, name="x", title="X", suite="bigbench_mc", columns=["*:bits_per_byte"]
        )
    assert error.value.fields == {"columns": ["Unknown column '*:bits_per_byte'."]}


def test_boards_over_rest(alice, acme):
    from rest_framework.test import APIClient

    publish_suite_repo(alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(alice)}")
    body = {"namespace": "acme", "name": "letters", "title": "Letters", "suite": "datasets/alice/letters-bench"}
    created = client.post("/api/v1/leaderboards", body, format="json")
    assert created.status_code == 201, created.json()
    assert (created.json()["id"], created.json()["url"]) == ("acme/letters", "/leaderboards/acme/letters")
    listing = APIClient().get("/api/v1/leaderboards").json()
    assert [b["id"] for b in listing] == ["acme/letters"]
    board = APIClient().get("/api/v1/leaderboards/acme/letters").json()
    assert (board["board"]["suite"], board["entries"]) == ("datasets/alice/letters-bench", [])
    assert APIClient().get("/api/v1/leaderboards/acme/nothing").status_code == 404
