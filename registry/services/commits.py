"""Creating commits: apply file operations to a branch head and move the branch by compare-and-swap.

Lock order: none is taken. Blobs are promoted before the transaction (idempotent, invisible until
referenced); inside it, trees and the commit are written and the ref is moved with a conditional
UPDATE. Two commits racing on the same parent both build their trees, exactly one UPDATE matches,
and the other gets ``PreconditionFailed`` (412) with nothing changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import PreconditionFailed, ValidationError
from registry.errors import RevisionNotFound
from registry.git.attributes import GitAttributes
from registry.git.objects import Signature, blob_oid, commit_body, commit_message, lfs_pointer, object_id
from registry.git.packs import COMMIT, PushedCommit, pack_entry
from registry.git.paths import folder_validate, path_validate
from registry.hooks import RefAction, ref_guards_check
from registry.models import Blob, GitCommit, Repo, RepoBlob
from registry.selectors.packs import new_objects_compute
from registry.selectors.revisions import branch_ref, ref_target
from registry.services.metadata import repo_on_default_branch_commit
from registry.services.refs import ref_compare_and_swap
from registry.services.scans import scans_queue_for_files
from registry.storage import StagedBlob, blob_open, blob_promote
from registry.trees import MODE_TREE, FileInfo, TreeEditor, tree_lookup, trees_load

GITATTRIBUTES = ".gitattributes"
README = "README.md"


@dataclass
class AddFile:
    """Add or replace ``path`` with staged content (inline uploads)."""

    path: str
    staged: StagedBlob


@dataclass
class AddLfsFile:
    """Add or replace ``path`` with content already uploaded to this repository (by sha256)."""

    path: str
    sha256: str
    size: int | None = None


@dataclass
class DeleteFile:
    path: str


@dataclass
class DeleteFolder:
    path: str


Operation = AddFile | AddLfsFile | DeleteFile | DeleteFolder


@dataclass
class CommitResult:
    commit: GitCommit
    ref: str
    parent: str | None
    changed_paths: list[str] = field(default_factory=list)


def _blob_for_lfs(*, repo: Repo, op: AddLfsFile) -> Blob:
    sha256 = op.sha256.lower()
    blob = Blob.objects.filter(sha256=sha256, repo_links__repo=repo).first()
    if blob is None:
        raise ValidationError(
            f"LFS object {sha256} for '{op.path}' was not uploaded to this repository; upload it first."
        )
    if op.size is not None and op.size != blob.size:
        raise ValidationError(f"Size mismatch for '{op.path}': declared {op.size}, stored {blob.size}.")
    return blob


def lfs_required(*, path: str, size: int, attributes: GitAttributes) -> bool:
    """The Hub's rule: files this large, or matching an LFS pattern of ``.gitattributes``, are LFS."""
    return size >= settings.HUB_LFS_THRESHOLD_BYTES or attributes.is_lfs(path)


def _is_lfs(*, path: str, size: int, attributes: GitAttributes, forced: bool) -> bool:
    """Content sent inline stays regular when empty, whatever ``.gitattributes`` says, as on the Hub."""
    return forced or (size > 0 and lfs_required(path=path, size=size, attributes=attributes))


def _is_folder(editor: TreeEditor, path: str) -> bool:
    entry = editor.lookup(path)
    return entry is not None and entry[0] == MODE_TREE


def _read_small_blob(blob: Blob, *, limit: int) -> bytes:
    if blob.size > limit:
        raise ValidationError(f"The file is larger than {limit} bytes.")
    with blob_open(blob) as handle:
        return handle.read()


def card_check(*, repo: Repo, readme: bytes):
    """The card of ``readme``; invalid metadata is refused (``ValidationError`` naming the fields)."""
    return _check_card(repo=repo, readme=readme)


def _check_card(*, repo: Repo, readme: bytes):
    from registry.cards import card_parse

    try:
        text = readme.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("README.md must be UTF-8 text.", fields={README: ["Not UTF-8."]}) from None
    card = card_parse(text, repo_type=repo.type)
    if card.errors:
        details = "; ".join(f"{issue.field}: {issue.message}" for issue in card.errors)
        raise ValidationError(
            f"Invalid metadata in README.md: {details}",
            fields={f"README.md:{issue.field}": [issue.message] for issue in card.errors},
        )
    return card


# Commits land on branches and on pull requests; tags and other refs never move by a commit.
COMMIT_REF = re.compile(r"^refs/heads/.+$|^refs/pr/[1-9][0-9]*$")


def commit_ref_check(*, repo: Repo, ref: str) -> None:
    """Refuse a commit onto anything but a branch (``refs/heads/*``) or a pull request
    (``refs/pr/N``): 400 naming the reference, so the client shows why (a tag, above all, never
    moves). A branch name that is only a tag's is refused the same way rather than "not found"."""
    if COMMIT_REF.match(ref):
        if ref.startswith("refs/heads/") and ref_target(repo=repo, ref=ref) is None:
            tag = f"refs/tags/{ref.removeprefix('refs/heads/')}"
            if ref_target(repo=repo, ref=tag) is not None:
                ref = tag
            else:
                return
        else:
            return
    what = f"{ref} is a tag" if ref.startswith("refs/tags/") else f"{ref} is not a branch"
    raise ValidationError(
        f"Invalid reference for a branch: {what}; commits land on branches (refs/heads/…) "
        "and open pull requests (refs/pr/N)."
    )


def commit_create(
    *,
    repo: Repo,
    user,
    ref: str,
    operations: list[Operation],
    summary: str,
    description: str = "",
    parent_commit: str | None = None,
    create_ref_from: str | None = None,
) -> CommitResult:
    """Commit ``operations`` on top of ``ref`` (``refs/heads/x`` or ``refs/pr/N``; anything else,
    a tag above all, is refused with 400 by :func:`commit_ref_check`).

    ``parent_commit`` (a full or ≥5-character id) must be the current head, else 412.
    ``create_ref_from`` creates ``ref`` at that commit first (new PR refs). Paths are validated
    (422 for traversal and the like); deleting what does not exist is 404 ``EntryNotFound``;
    invalid README metadata is refused.
    """
    if not operations:
        raise ValidationError("A commit needs at least one operation.")
    commit_ref_check(repo=repo, ref=ref)
    if ref.startswith("refs/heads/"):
        ref_guards_check(repo=repo, user=user, ref=ref, action=RefAction.COMMIT)
    for op in operations:
        op.path = folder_validate(op.path) if isinstance(op, DeleteFolder) else path_validate(op.path)

    # Blobs first: promotion is idempotent and nothing can see a blob until a tree names it.
    blobs: dict[str, Blob] = {}
    for op in operations:
        if isinstance(op, AddFile):
            blobs[op.path] = blob_promote(op.staged)
        elif isinstance(op, AddLfsFile):
            blobs[op.path] = _blob_for_lfs(repo=repo, op=op)

    with transaction.atomic():
        head_oid = ref_target(repo=repo, ref=ref)
        if head_oid is None:
            if create_ref_from is None:
                raise RevisionNotFound(f"Invalid rev id: {ref.removeprefix('refs/heads/')}")
            head_oid = create_ref_from
            expected = None
        else:
            expected = head_oid
        if parent_commit and not head_oid.startswith(parent_commit.lower()):
            # The Hub's sentence first: clients match on it.
            raise PreconditionFailed(
                "The branch was updated since you opened this page. Please refresh and try again. "
                f"(A commit has happened since {parent_commit[:7]}: the head of {ref} is now {head_oid[:7]}.)"
            )
        head = GitCommit.objects.get(repo=repo, oid=head_oid)
        editor = TreeEditor(head.tree_oid)

        attributes_blob = blobs.get(GITATTRIBUTES)
        if attributes_blob is not None:
            attributes = GitAttributes.from_bytes(_read_small_blob(attributes_blob, limit=1024 * 1024))
        else:
            current = tree_lookup(head.tree_oid, GITATTRIBUTES)
            attributes = GitAttributes.from_bytes(
                _read_small_blob(Blob.objects.get(sha256=current.sha256), limit=1024 * 1024)
                if isinstance(current, FileInfo)
                else b""
            )

        card = None
        if README in blobs:
            card = _check_card(repo=repo, readme=_read_small_blob(blobs[README], limit=5 * 1024 * 1024))

        changed, committed = [], []
        for op in operations:
            if isinstance(op, DeleteFile) and _is_folder(editor, op.path):
                editor.delete_folder(op.path)  # a folder named without its trailing "/", as the Hub allows
            elif isinstance(op, DeleteFile):
                editor.delete_file(op.path)
            elif isinstance(op, DeleteFolder):
                editor.delete_folder(op.path)
            else:
                blob = blobs[op.path]
                lfs = _is_lfs(path=op.path, size=blob.size, attributes=attributes, forced=isinstance(op, AddLfsFile))
                oid = blob_oid(lfs_pointer(sha256=blob.sha256, size=blob.size)) if lfs else blob.git_sha1
                editor.add_file(op.path, oid=oid, size=blob.size, sha256=blob.sha256, lfs=lfs)
                committed.append((op.path, blob, lfs))
            changed.append(op.path)
        tree = editor.write()

        commit = commit_object_create(
            repo=repo, user=user, tree=tree, parents=[head], message=commit_message(summary, description)
        )
        RepoBlob.objects.bulk_create(
            [RepoBlob(repo=repo, blob=blob) for blob in {b.pk: b for b in blobs.values()}.values()],
            ignore_conflicts=True,
        )
        scans_queue_for_files(files=committed)
        ref_compare_and_swap(repo=repo, name=ref, expected=expected, new=commit.oid)
        if ref == f"refs/heads/{repo.default_branch}":
            readme_touched = any(op.path == README for op in operations)
            if readme_touched and card is None:
                card = card_of_tree(repo=repo, tree=tree)
            repo_on_default_branch_commit(repo=repo, commit=commit, card=card, card_changed=readme_touched)
    return CommitResult(commit=commit, ref=ref, parent=head.oid, changed_paths=changed)


def history_squash(*, repo: Repo, user, revision: str, message: str) -> GitCommit:
    """Replace the history of the branch ``revision`` (or a ``refs/pr/N``, ``refs/convert/x`` ref)
    by one commit of the same tree without parents: the Hub's ``super-squash``. A tag is refused
    (400: tags never move); an unknown branch is ``RevisionNotFound``."""
    ref = branch_ref(revision)
    with transaction.atomic():
        head_oid = ref_target(repo=repo, ref=ref)
        if head_oid is None or ref.startswith("refs/tags/"):
            tag = ref if ref.startswith("refs/tags/") else f"refs/tags/{revision}"
            if ref_target(repo=repo, ref=tag) is not None:
                raise ValidationError(f"Invalid reference for a branch: {revision} is a tag; tags cannot be squashed.")
            raise RevisionNotFound(f"Invalid rev id: {revision}")
        if ref.startswith("refs/heads/"):
            ref_guards_check(repo=repo, user=user, ref=ref, action=RefAction.REWRITE)
        head = GitCommit.objects.get(repo=repo, oid=head_oid)
        commit = commit_object_create(
            repo=repo, user=user, tree=head.tree_oid, parents=[], message=commit_message(message, "")
        )
        ref_compare_and_swap(repo=repo, name=ref, expected=head_oid, new=commit.oid)
        if ref == f"refs/heads/{repo.default_branch}":
            repo_on_default_branch_commit(repo=repo, commit=commit, card=None, card_changed=False)
    return commit


def card_of_tree(*, repo: Repo, tree: str):
    """The card of README.md in ``tree`` (None when there is none), for metadata after a delete."""
    from registry.cards import card_parse

    readme = tree_lookup(tree, README)
    if not isinstance(readme, FileInfo):
        return None
    data = _read_small_blob(Blob.objects.get(sha256=readme.sha256), limit=5 * 1024 * 1024)
    return card_parse(data.decode("utf-8", "replace"), repo_type=repo.type)


def commit_object_create(*, repo: Repo, user, tree: str, parents: list[GitCommit], message: str) -> GitCommit:
    """Sign ``tree`` as a commit of ``user`` on top of ``parents`` (now, in UTC) and record it.

    The id is git's, so committing the same tree, parents, author, second and message twice
    yields the same row.
    """
    when = timezone.now().astimezone(UTC).replace(microsecond=0)
    if user is not None and getattr(user, "pk", None):
        signature = Signature(name=user.username, email=user.email or f"{user.username}@users.noreply", when=when)
    else:
        signature = Signature(name="hub", email="hub@localhost", when=when)
    author = user if getattr(user, "pk", None) else None
    return commit_object_record(repo=repo, author=author, signature=signature, tree=tree, parents=parents,
                                message=message)  # fmt: skip


def commit_object_record(
    *, repo: Repo, author, signature: Signature, tree: str, parents: list[GitCommit], message: str
) -> GitCommit:
    """Record the commit of ``tree`` on ``parents`` signed ``signature`` (author and committer);
    ``author`` is the user row it credits, if any."""
    parent_ids = [parent.oid for parent in parents]
    body = commit_body(tree=tree, parents=parent_ids, author=signature, committer=signature, message=message)
    oid = object_id("commit", body)
    new_objects = new_objects_compute({oid: (tree, [parent.tree_oid for parent in parents])}, load=trees_load)
    commit, _ = GitCommit.objects.get_or_create(
        repo=repo,
        oid=oid,
        defaults={
            "pack_entry": pack_entry(COMMIT, body),
            "new_objects": new_objects[oid].to_json(),
            "tree_oid": tree,
            "parents": parent_ids,
            "generation": max((parent.generation for parent in parents), default=-1) + 1,
            "title": message.split("\n", 1)[0][:500],
            "message": message,
            "author": author,
            "author_name": signature.name,
            "author_email": signature.email,
            "authored_at": signature.when,
        },
    )
    return commit


def commit_objects_record(
    *, repo: Repo, user, commits: list[PushedCommit], trees: dict[str, list] | None = None
) -> list[GitCommit]:
    """Record commit objects built elsewhere (pushed over git) under their own ids and bodies.

    ``commits`` come parents first; a parent not among them must already be a commit of ``repo``.
    The author row is ``user`` (the pusher) when the commit's author email is theirs, else none: a
    pushed commit names its author by text only. Recording a commit twice is a no-op. Runs inside
    the caller's transaction and moves no ref. ``trees``: stored entries of trees the caller holds
    (the pushed ones), read instead of their rows when the commits' new objects are computed.
    """
    known = {c.oid for c in commits}
    outside = {parent for c in commits for parent in c.parents if parent not in known}
    generations, tree_oids = {}, {c.oid: c.tree for c in commits}
    for oid, generation, tree in GitCommit.objects.filter(repo=repo, oid__in=outside).values_list(
        "oid", "generation", "tree_oid"
    ):
        generations[oid], tree_oids[oid] = generation, tree
    missing = outside - generations.keys()
    if missing:
        raise ValidationError(f"Parent commits are not in {repo.repo_id}: {', '.join(sorted(missing)[:10])}")
    email = (getattr(user, "email", "") or "").lower()
    # Trees not in ``trees`` are stored already (a push writes its trees before any commit).
    new_objects = new_objects_compute(
        {c.oid: (c.tree, [tree_oids[parent] for parent in c.parents]) for c in commits}, known=trees
    )
    rows = []
    for commit in commits:
        generation = max((generations[parent] for parent in commit.parents), default=-1) + 1
        generations[commit.oid] = generation
        rows.append(
            GitCommit(
                repo=repo,
                oid=commit.oid,
                tree_oid=commit.tree,
                parents=list(commit.parents),
                generation=generation,
                title=commit.title[:500],
                message=commit.message,
                author=user if email and commit.author_email.lower() == email else None,
                author_name=commit.author_name,
                author_email=commit.author_email,
                authored_at=commit.authored_at,
                raw=commit.raw,
                pack_entry=pack_entry(COMMIT, commit.raw),
                new_objects=new_objects[commit.oid].to_json(),
            )
        )
    GitCommit.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return list(GitCommit.objects.filter(repo=repo, oid__in=known))


def commit_new_objects_record(*, repo: Repo, found: dict[str, dict]) -> None:
    """Store ``GitCommit.new_objects`` computed for rows that had none (commit id -> its JSON). The
    lists follow from the commits' ids, so storing one twice writes the same value; no lock."""
    rows = list(GitCommit.objects.filter(repo=repo, oid__in=list(found), new_objects__isnull=True).only("pk", "oid"))
    for row in rows:
        row.new_objects = found[row.oid]
    GitCommit.objects.bulk_update(rows, ["new_objects"], batch_size=200)


def initial_commit_create(*, repo: Repo, user, files: dict[str, StagedBlob]) -> GitCommit:
    """The first commit of a new repository (``.gitattributes``), with no parent."""
    editor = TreeEditor(None)
    blobs = {path: blob_promote(staged) for path, staged in files.items()}
    for path, blob in blobs.items():
        editor.add_file(path, oid=blob.git_sha1, size=blob.size, sha256=blob.sha256, lfs=False)
    tree = editor.write()
    commit = commit_object_create(repo=repo, user=user, tree=tree, parents=[], message=commit_message("initial commit"))
    RepoBlob.objects.bulk_create([RepoBlob(repo=repo, blob=blob) for blob in blobs.values()], ignore_conflicts=True)
    return commit
