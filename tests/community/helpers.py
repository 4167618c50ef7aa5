"""Helpers of the Community tab's page tests (``test_pages_*.py``); their fixtures
(``alice``, ``bob``, ``repo``) live in ``tests/community/conftest.py``."""

from django.test import Client

from community.models import Discussion
from community.services.discussions import pull_request_propose
from registry.models import GitCommit
from registry.services.commits import AddFile
from registry.storage import stage_bytes


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def head(repo, ref: str = "refs/heads/main") -> GitCommit:
    return GitCommit.objects.get(repo=repo, oid=repo.refs.get(name=ref).target_oid)


def propose(repo, user, files: dict[str, bytes], summary: str = "Propose", description: str = "") -> Discussion:
    operations = [AddFile(path=path, staged=stage_bytes(data)) for path, data in files.items()]
    return pull_request_propose(
        repo=repo, user=user, branch="main", operations=operations, summary=summary, description=description
    )


def url(pr_or_num, suffix: str = "") -> str:
    num = pr_or_num if isinstance(pr_or_num, int) else pr_or_num.num
    return f"/alice/tiny/discussions/{num}{suffix}"
