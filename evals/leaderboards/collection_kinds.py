"""Leaderboards as collection items (``registry.collection_kinds``): registered in ``ready()``."""

from __future__ import annotations

from common.errors import NotFound
from evals.leaderboards.models import Leaderboard
from evals.leaderboards.selectors import leaderboard_get, leaderboard_list
from registry.collection_kinds import ItemKind, ItemTarget


def _target(board: Leaderboard) -> ItemTarget:
    fields = {"author": board.namespace.name, "title": board.title, "suite": board.suite}
    return ItemTarget(object_pk=board.pk, id=board.board_id, title=board.title, web_path=board.web_path, fields=fields)


def _find(user, item_id: str) -> ItemTarget | None:
    namespace, _, name = item_id.partition("/")
    try:
        return _target(leaderboard_get(namespace=namespace, name=name))
    except NotFound:
        return None


def _describe(user, pks: list[int]) -> dict[int, ItemTarget]:
    # Boards are public: every reader sees every board.
    return {board.pk: _target(board) for board in leaderboard_list().filter(pk__in=pks)}


LEADERBOARD_ITEMS = ItemKind(
    name="leaderboard", label="Leaderboard", url_plural="leaderboards", find=_find, describe=_describe
)
