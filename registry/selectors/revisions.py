"""Turning a revision (branch, tag, commit id, ``refs/pr/N``…) into a commit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.errors import RevisionNotFound
from registry.models import GitCommit, Ref, Repo

FULL_REF = re.compile(r"^refs/(heads|tags|convert)/.+$|^refs/pr/\d+$")
HEX_ID = re.compile(r"^[0-9a-fA-F]{5,40}$")


@dataclass(frozen=True)
class Revision:
    """A resolved revision: the commit, and the ref it came from (None for a commit id)."""

    commit: GitCommit
    ref: str | None

    @property
    def oid(self) -> str:
        return self.commit.oid


def branch_ref(name: str) -> str:
    """The full ref of a branch name; ``refs/pr/N`` (and other full refs) are kept as they are."""
    return name if FULL_REF.match(name) else f"refs/heads/{name}"


def ref_target(*, repo: Repo, ref: str) -> str | None:
    return Ref.objects.filter(repo=repo, name=ref).values_list("target_oid", flat=True).first()


def commit_get(*, repo: Repo, oid: str) -> GitCommit:
    commit = GitCommit.objects.filter(repo=repo, oid=oid).first()
    if commit is None:
        raise RevisionNotFound(f"Commit {oid} not found in {repo.repo_id}.")
    return commit


def revision_resolve(*, repo: Repo, revision: str | None) -> Revision:
    """Resolve ``revision``: full refs, then branches, then tags, then (short) commit ids."""
    revision = revision or repo.default_branch
    if FULL_REF.match(revision):
        candidates = [revision]
    else:
        candidates = [f"refs/heads/{revision}", f"refs/tags/{revision}"]
    refs = dict(Ref.objects.filter(repo=repo, name__in=candidates).values_list("name", "target_oid"))
    for name in candidates:
        if name in refs:
            return Revision(commit=commit_get(repo=repo, oid=refs[name]), ref=name)
    if HEX_ID.match(revision):
        matches = list(GitCommit.objects.filter(repo=repo, oid__startswith=revision.lower())[:2])
        if len(matches) == 1:
            return Revision(commit=matches[0], ref=None)
        if len(matches) > 1:
            raise RevisionNotFound(f"The short commit id '{revision}' is ambiguous; give more characters.")
    raise RevisionNotFound(f"Invalid rev id: {revision}")


def revision_path_split(*, repo: Repo, rest: str, path_required: bool = False) -> tuple[str, str]:
    """Split ``{rev}[/{path}]`` of a URL, where branch and tag names may contain ``/``.

    ``refs/pr/N`` and ``refs/convert/x`` come first; otherwise the longest prefix that names a
    branch or tag wins — the whole of ``rest`` included unless ``path_required`` (``resolve/``
    always names a file; ``tree/feature/x`` may stop at the revision) — found with one query;
    else the first segment (a commit id).
    """
    rest = rest.strip("/")
    segments = rest.split("/")
    if rest.startswith(("refs/pr/", "refs/convert/")) and len(segments) >= 3:
        return "/".join(segments[:3]), "/".join(segments[3:])
    if len(segments) == 1:
        return rest, ""
    longest = len(segments) - 1 if path_required else len(segments)
    candidates = ["/".join(segments[:count]) for count in range(longest, 1, -1)]
    names = [f"refs/heads/{c}" for c in candidates] + [f"refs/tags/{c}" for c in candidates]
    existing = set(Ref.objects.filter(repo=repo, name__in=names).values_list("name", flat=True))
    for candidate in candidates:
        if f"refs/heads/{candidate}" in existing or f"refs/tags/{candidate}" in existing:
            return candidate, rest[len(candidate) + 1 :]
    return segments[0], "/".join(segments[1:])
