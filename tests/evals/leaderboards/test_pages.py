"""The leaderboard pages: a board with many entries in a bounded number of queries, its sorting and
filters, hidden private models, the cached table following every change to the board, the form
that creates a board, and the list and home links."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from evals.leaderboards.choices import EntryState
from evals.leaderboards.models import Entry, Leaderboard
from evals.leaderboards.services.scoring import _pack, board_rank
from evals.leaderboards.services.trust import entry_flag
from registry.services.repos import repo_delete, repo_update_settings
from tests.frontend.builders import make_repo
from tests.support.factories import DEFAULT_PASSWORD
from training_runner.inference.models import ArenaRating
from training_runner.jobs.choices import RunKind
from training_runner.jobs.models import Run

pytestmark = pytest.mark.django_db


def _ranked(board, repo, *, rank: int, value: float, parameters: int, license: str = "mit") -> Entry:
    """An entry as scoring leaves it (the flow tests build real ones; here the page is the subject)."""
    scores = {
        "*:acc": {"value": value, "ci95": [value - 0.1, value + 0.1], "n": 4, "normalized": (value - 0.5) / 0.5},
        "letters:acc": {"value": value, "ci95": [value - 0.1, value + 0.1], "n": 4},
    }
    return Entry.objects.create(
        board=board,
        model_repo=repo,
        model_repo_name=repo.repo_id,
        model_revision="main",
        model_commit="a" * 40,
        submitter=repo.created_by,
        state=EntryState.FINISHED,
        current=True,
        scores=scores,
        primary=value,
        rank=rank,
        rank_low=rank,
        rank_high=rank + 1,
        parameters=parameters,
        license=license,
        architecture="llama",
    )


def test_a_board_page_costs_the_same_few_queries_whatever_its_size(board, alice, django_assert_num_queries):
    for number in range(30):
        _ranked(
            board, make_repo(alice, f"m{number}"), rank=number + 1, value=1 - number / 100, parameters=1000 + number
        )
    client = Client()
    # board, the models the visitor may not see with the arena ratings, the entries' keys in order
    # (their number pages them), the page's entries, the submission queue
    client.get(board.web_path)
    # then keys, queue and rendered rows come from the cache until the board changes: the board and
    # what is read for each visitor remain
    with django_assert_num_queries(2):
        response = client.get(board.web_path)
    html = response.content.decode()
    assert html.count('<tr data-entry="') == 30 + 30  # the ranked table and the queue
    assert '<td class="rank">1 <span class="muted" title="95 % rank interval">[1–2]</span></td>' in html
    assert '0.9900</a> <span class="muted ci">± 0.1000</span>' in html
    assert (
        '<span class="muted normalized" title="normalized: (raw − chance) / (1 − chance)">0.9800 norm.</span>' in html
    )


def test_sorting_filtering_and_private_models(board, alice, bob):
    small = _ranked(board, make_repo(alice, "small"), rank=2, value=0.6, parameters=100)
    big = _ranked(board, make_repo(alice, "big"), rank=1, value=0.8, parameters=10_000, license="apache-2.0")
    secret = _ranked(board, make_repo(bob, "secret"), rank=3, value=0.5, parameters=50)
    repo_update_settings(repo=secret.model_repo, private=True)

    def order(query: str) -> list[int]:
        html = Client().get(f"{board.web_path}{query}").content.decode()
        table = html.split('id="board"', 1)[1].split("</table>", 1)[0]
        return [int(part.split('"', 1)[0]) for part in table.split('<tr data-entry="')[1:]]

    assert order("") == [big.pk, small.pk]
    assert order("?sort=letters:acc") == [big.pk, small.pk]
    assert order("?sort=-letters:acc") == [small.pk, big.pk]
    assert order("?max_parameters=1000") == [small.pk]
    assert order("?license=apache-2.0") == [big.pk]
    bob_client = Client()
    assert bob_client.login(username="bob", password=DEFAULT_PASSWORD)
    html = bob_client.get(board.web_path).content.decode()
    assert f'<tr data-entry="{secret.pk}">' in html  # its owner sees it
    assert Client().get(f"{board.web_path}?sort=nope").status_code == 400
    assert Client().get(f"{board.web_path}?max_parameters=many").status_code == 400


def _table(client: Client, board) -> str:
    html = client.get(board.web_path).content.decode()
    return html.split('id="board"', 1)[1].split("</table>", 1)[0]


def test_the_cached_table_follows_every_change_to_the_board(board, alice, bob, django_assert_num_queries):
    run = Run.objects.create(
        kind=RunKind.EVALUATION, user=alice, queued_at=timezone.now(), results={"suite": {"aggregate": {}}}
    )
    first = _ranked(board, make_repo(alice, "first"), rank=2, value=0.6, parameters=100)
    second = _ranked(board, make_repo(alice, "second"), rank=1, value=0.7, parameters=200)
    client = Client()
    table = _table(client, board)
    assert table.index(f'data-entry="{second.pk}"') < table.index(f'data-entry="{first.pk}"')
    with django_assert_num_queries(2):  # served from the cache
        assert _table(client, board) == table
    version = Leaderboard.objects.get(pk=board.pk).version

    # An entry saved (scoring saves what it computes): its new scores show.
    first.scores = {key: {**cell, "value": 0.65} for key, cell in first.scores.items()}
    first.run = run
    first.save()
    assert Leaderboard.objects.get(pk=board.pk).version != version
    table = _table(client, board)
    assert table.count("0.6500</a>") == 2
    assert "0.6000</a>" not in table
    assert f'href="/runs/{run.pk}/samples?task=letters"' in table

    # Ranks written in bulk (ranking sends no signal per entry): every item of "first" is right and
    # none of "second" is, so they rank apart and the order turns.
    for entry, values in ((first, [1.0] * 40), (second, [0.0] * 40)):
        Entry.objects.filter(pk=entry.pk).update(item_values=_pack({"letters": values}), run=run)
    board_rank(board_id=board.pk)
    table = _table(client, board)
    assert table.index(f'data-entry="{first.pk}"') < table.index(f'data-entry="{second.pk}"')
    assert '<td class="rank">1 <span class="muted" title="95 % rank interval">[1–1]</span></td>' in table

    # A flag (written with an update, no signal).
    assert "flagged</span>" not in table
    entry_flag(entry=first, user=bob, reason="The letters suite leaks into the training data.")
    assert _table(client, board).count("flagged</span>") == 1

    # An arena rating (not a change of the board: the page reads ratings each time).
    ArenaRating.objects.create(repo=second.model_repo, rating=1234.4, lower=1200.2, upper=1260.7, battles=9)
    assert '<td class="num">1234 <span class="muted">[1200–1261]</span></td>' in _table(client, board)

    # A model made private (visibility is read each time too): gone for others, there for its owner.
    repo_update_settings(repo=second.model_repo, private=True)
    assert f'data-entry="{second.pk}"' not in _table(client, board)
    owner = Client()
    assert owner.login(username="alice", password=DEFAULT_PASSWORD)
    assert f'data-entry="{second.pk}"' in _table(owner, board)

    # A deleted run takes its entries' links to the items with it.
    run_path = f"/runs/{run.pk}/samples"
    run.delete()
    assert run_path not in _table(client, board)

    # A deleted model: its entries lose it (no signal of theirs) and leave the table and the queue.
    third = _ranked(board, make_repo(alice, "third"), rank=3, value=0.1, parameters=300)
    assert f'data-entry="{third.pk}"' in client.get(board.web_path).content.decode()
    repo_delete(repo=third.model_repo)
    assert f'data-entry="{third.pk}"' not in client.get(board.web_path).content.decode()

    # A deleted entry.
    first.delete()
    assert "<p>No finished entries.</p>" in client.get(board.web_path).content.decode()


def test_the_form_creates_a_board_and_the_list_and_home_link_it(alice, acme):
    from tests.training_runner.jobs.conftest import publish_suite_repo

    publish_suite_repo(alice)
    client = Client()
    assert client.login(username="alice", password=DEFAULT_PASSWORD)
    form = client.get("/leaderboards/new").content.decode()
    assert '<option value="acme">acme</option>' in form
    values = {
        "owner": "acme",
        "name": "letters",
        "title": "Letters",
        "suite": "datasets/alice/letters-bench",
        "policy": "anyone",
        "columns": "*:acc",
    }
    response = client.post("/leaderboards/new", values)
    assert response["Location"] == "/leaderboards/acme/letters"
    refused = client.post("/leaderboards/new", {**values, "name": "other", "columns": "*:bleu"})
    assert refused.status_code == 400
    assert "Unknown column &#x27;*:bleu&#x27;." in refused.content.decode()
    assert (
        '<a class="repo-card-name" href="/leaderboards/acme/letters">Letters</a>'
        in Client().get("/leaderboards").content.decode()
    )
    assert 'href="/leaderboards/acme/letters">Letters</a>' in Client().get("/").content.decode()


def test_the_queue_shared_by_every_visitor_fills_up_past_models_they_may_not_see(board, alice, bob):
    """The page caches the latest submissions of every model, more than it shows; a visitor who may
    not see enough of them to fill the queue gets it read for them."""
    from evals.leaderboards.selectors import QUEUE_LENGTH

    mine = make_repo(alice, "mine")
    secret = make_repo(bob, "secret")
    repo_update_settings(repo=secret, private=True)

    def submit(repo, count: int) -> list[int]:
        return [
            Entry.objects.create(
                board=board,
                model_repo=repo,
                model_repo_name=repo.repo_id,
                model_revision="main",
                model_commit=f"{number:040x}",
                submitter=repo.created_by,
                state=EntryState.REJECTED,
                reason="The model card does not declare a license.",
            ).pk
            for number in range(count)
        ]

    def queue(client: Client) -> list[int]:
        html = client.get(board.web_path).content.decode()
        table = html.split('id="queue-table"', 1)[1].split("</table>", 1)[0]
        return [int(part.split('"', 1)[0]) for part in table.split('<tr data-entry="')[1:]]

    older = submit(mine, QUEUE_LENGTH)
    hidden = submit(secret, 10)  # newer: the first rows of what the page caches
    owner = Client()
    assert owner.login(username="bob", password=DEFAULT_PASSWORD)
    assert queue(owner) == (hidden[::-1] + older[::-1])[:QUEUE_LENGTH]
    assert queue(Client()) == older[::-1]  # the cached rows less the private model's
    newest = submit(secret, 2 * QUEUE_LENGTH)  # more than the cache holds are hidden from others
    assert queue(owner) == newest[::-1][:QUEUE_LENGTH]
    assert queue(Client()) == older[::-1]
