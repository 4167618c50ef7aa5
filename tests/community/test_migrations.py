"""Discussions moved from the hub app to the community app without losing a row: the tables keep
their names and the migrations move only Django's idea of which app owns them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from community.models import Discussion, DiscussionEvent
from tests.frontend.builders import make_repo
from tests.support.factories import make_user

BEFORE_THE_MOVE = [("community", None), ("hub", "0002_discussions")]


@pytest.mark.django_db(transaction=True)
def test_a_discussion_written_before_the_move_is_found_after_it():
    alice = make_user("alice")
    repo = make_repo(alice, "tiny")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_MOVE)
    executor.loader.build_graph()
    applied = set(executor.loader.applied_migrations)
    assert ("hub", "0003_move_discussions") not in applied
    assert ("community", "0001_initial") not in applied
    old_apps = executor.loader.project_state([("hub", "0002_discussions")]).apps
    OldDiscussion = old_apps.get_model("hub", "Discussion")
    OldEvent = old_apps.get_model("hub", "DiscussionEvent")
    with pytest.raises(LookupError):
        old_apps.get_model("community", "Discussion")
    old = OldDiscussion.objects.create(repo_id=repo.pk, num=1, title="Written before", author_id=alice.pk)
    OldEvent.objects.create(discussion_id=old.pk, type="comment", author_id=alice.pk, data={"content": "Hello"})

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Discussion.objects.get(repo=repo)
    assert (moved.pk, moved.num, moved.title, moved.author) == (old.pk, 1, "Written before", alice)
    assert [(e.type, e.data["content"]) for e in DiscussionEvent.objects.filter(discussion=moved)] == [
        ("comment", "Hello")
    ]
    assert Discussion._meta.db_table == "hub_discussion"
