"""Demo content for ``make run``: people, organizations, datasets from the offline data kit,
training runs that the hub's own workers turn into models (and then evaluate), a tutorial, and a
reviewed pull request.

Idempotent: each piece is created only if it is missing, so running it again changes nothing.
"""

from __future__ import annotations

import logging

from django.db import transaction

from hub.models import Organization, User
from hub.services.accounts import user_create
from hub.services.organizations import membership_add, organization_create

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "hub-demo-password"
DEMO_USERS = [
    ("alice", "Alice Martin", "Trains small language models and writes about it."),
    ("bob", "Bob Nguyen", "Curates evaluation datasets."),
    ("carol", "Carol Okafor", "Reviews pull requests for the research org."),
]
DEMO_ORGS = [
    ("open-research", "Open Research Lab", "A community lab publishing small, fully reproducible models.", "alice",
     {"bob": "write", "carol": "read"}),
    ("eval-guild", "Evaluation Guild", "Benchmarks, leaderboards and the data behind them.", "bob", {"alice": "read"}),
]  # fmt: skip


def _demo_user(username: str, fullname: str, bio: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            username=username, email=f"{username}@demo.llm-hub.local", password=DEMO_PASSWORD, fullname=fullname
        )
        user.bio = bio
        user.save(update_fields=["bio"])
    return user


def demo_people(*, log=logger.info) -> dict[str, User]:
    """Create the demo people and organizations if they are missing."""
    with transaction.atomic():
        users = {name: _demo_user(name, fullname, bio) for name, fullname, bio in DEMO_USERS}
        for name, fullname, description, admin, members in DEMO_ORGS:
            if Organization.objects.filter(namespace__name=name).exists():
                continue
            organization = organization_create(
                creator=users[admin], name=name, fullname=fullname, description=description
            )
            for username, role in members.items():
                membership_add(actor=users[admin], organization=organization, username=username, role=role)
    log(f"demo people: {', '.join(users)}; organizations: {', '.join(org[0] for org in DEMO_ORGS)}")
    return users


def demo_seed(*, log=logger.info, train: bool = True) -> None:
    """Everything ``make run`` shows. ``train=False`` queues no training runs."""
    from frontend.demo_content.seed import seed_content

    users = demo_people(log=log)
    seed_content(users=users, log=log, train=train)
    demo_follow_up(log=log)


def demo_follow_up(*, log=logger.info) -> None:
    """What the demo can only do once the workers have published its models: switch their
    playgrounds on and seed arena battles. Idempotent and cheap when done; beat calls it under
    ``make run`` (``HUB_DEMO``) until the models exist."""
    from frontend.demo_content.arena import seed_arena

    users = {user.username: user for user in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    if len(users) == len(DEMO_USERS):
        seed_arena(users, log=log)
