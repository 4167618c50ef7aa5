"""What the community app does when its own signals fire: the hub's ``card-lint`` check on every
commit a pull request receives (``community.card_lint``), run as a task."""

from __future__ import annotations

from django.dispatch import receiver

from community.signals import pull_request_committed


@receiver(pull_request_committed, dispatch_uid="community-card-lint")
def lint_pull_request_card(sender, *, discussion_id: int, commit_oid: str, **kwargs) -> None:
    from community.tasks import card_lint_task

    card_lint_task.delay(discussion_id, commit_oid)
