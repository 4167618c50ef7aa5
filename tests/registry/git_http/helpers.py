"""Shared by the git smart-HTTP tests: remotes, the HF API's view of a repository, commits made in a clone."""

from __future__ import annotations

README = "---\nlicense: mit\ntags:\n- tiny\n---\n# Tiny\n\nA tiny model.\n"


def remote(hub, repo_id: str, prefix: str = "") -> str:
    return f"{hub.url}/{prefix}{repo_id}"


def api_commit_ids(hub, repo_id: str, revision: str = "main", **kwargs) -> list[str]:
    return [commit.commit_id for commit in hub.api.list_repo_commits(repo_id, revision=revision, **kwargs)]


def without_git(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in tree.items() if not path.startswith(".git/")}


def commit_file(user, clone, path: str, data: bytes, message: str) -> str:
    target = clone / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    user.run("add", path, cwd=clone)
    user.run("commit", "-q", "-m", message, cwd=clone)
    return user.out("rev-parse", "HEAD", cwd=clone)
