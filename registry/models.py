"""The registry's object model: repositories, git-compatible history, content-addressed blobs.

See ARCHITECTURE.md §4. Git objects (trees, commits) carry git's own ids; blobs are addressed by
sha256 and also record their git blob id; refs move only by compare-and-swap
(``registry.services.refs.ref_compare_and_swap``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import get_script_prefix

from hub.models import Namespace
from registry.choices import GatedMode, RepoType, UploadStatus
from registry.querysets import RepoQuerySet


class Repo(models.Model):
    """A versioned repository (model, dataset or tutorial) owned by a user or an organization."""

    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="repos")
    name = models.CharField(max_length=96)
    type = models.CharField(max_length=10, choices=RepoType.choices, default=RepoType.MODEL)
    private = models.BooleanField(default=False)
    gated = models.CharField(max_length=8, choices=GatedMode.choices, default=GatedMode.OFF, blank=True)
    # Set by moderators (``community.moderation``): a disabled repository serves no file on any
    # path (``registry.access.check_repo_enabled``). ``disabled_action`` is the id of the
    # moderation action, kept as a plain number so the registry never imports the app above it.
    disabled = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=32, blank=True)
    disabled_action = models.PositiveBigIntegerField(null=True, blank=True)
    default_branch = models.CharField(max_length=255, default="main")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now_add=True)

    # Counters: changed only with F() expressions (registry.services.counters).
    downloads = models.PositiveBigIntegerField(default=0)
    downloads_all_time = models.PositiveBigIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    trending_score = models.FloatField(default=0.0)
    used_storage = models.PositiveBigIntegerField(default=0)

    # Metadata parsed from README.md on the default branch (registry.services.cards).
    card_data = models.JSONField(default=dict, blank=True)
    description = models.CharField(max_length=500, blank=True)
    license = models.CharField(max_length=64, blank=True, db_index=True)
    pipeline_tag = models.CharField(max_length=64, blank=True, db_index=True)
    library_name = models.CharField(max_length=64, blank=True, db_index=True)
    search_document = models.TextField(blank=True)

    objects = RepoQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint("namespace", "type", Lower("name"), name="repo_name_ci_unique"),
        ]
        # One index per listing order (``registry.selectors.repos.SORT_FIELDS``), with every key of
        # the order and the columns visibility reads: a page far down a listing finds its rows'
        # ids from the index alone (``RepoListing``). The first serves counts by visibility.
        indexes = [
            models.Index(fields=["type", "private", "-last_modified"]),
            *(
                models.Index(fields=["type", *keys, "-id"], include=["private", "namespace"], name=f"repo_order_{name}")
                for name, keys in (
                    ("trending", ["-trending_score", "-last_modified"]),
                    ("downloads", ["-downloads"]),
                    ("likes", ["-likes"]),
                    ("modified", ["-last_modified"]),
                    ("created", ["-created_at"]),
                )
            ),
        ]

    def __str__(self) -> str:
        return self.repo_id

    @property
    def repo_id(self) -> str:
        return f"{self.namespace.name}/{self.name}"

    @property
    def repo_type(self) -> RepoType:
        return RepoType(self.type)

    @property
    def web_path(self) -> str:
        """``/[datasets/|tutorials/]ns/name``, after the path prefix the hub is served under
        (``HUB_PATH_PREFIX``), as ``reverse`` gives it."""
        return f"{get_script_prefix()}{self.repo_type.url_prefix}{self.repo_id}"


class RepoRedirect(models.Model):
    """A former id of a repository (renamed or transferred by ``repo_move``): requests for it are
    redirected to the repository's current id, as on the Hub, until a repository takes the name."""

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="redirects")
    type = models.CharField(max_length=10, choices=RepoType.choices)
    namespace = models.CharField(max_length=96)
    name = models.CharField(max_length=96)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint("type", Lower("namespace"), Lower("name"), name="repo_redirect_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} -> {self.repo_id}"


class RepoTag(models.Model):
    """A tag of a repository as listing filters see it (card tags plus derived ``license:…``,
    ``dataset:…``, ``base_model:…`` tags)."""

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="tag_rows")
    tag = models.CharField(max_length=200)

    class Meta:
        # Card order (then derived tags), as the card lists them.
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["repo", "tag"], name="repo_tag_unique")]
        indexes = [models.Index(fields=["tag", "repo"])]

    def __str__(self) -> str:
        return self.tag


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="like_rows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "repo"], name="like_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.repo_id}"


class DownloadDay(models.Model):
    """Downloads of a repository per day, summed into ``Repo.downloads`` (last 30 days) by beat."""

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="download_days")
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "day"], name="download_day_unique")]

    def __str__(self) -> str:
        return f"{self.repo_id} {self.day}: {self.count}"


class Blob(models.Model):
    """File content, stored once under its sha256 in the ``blobs`` storage however many
    repositories use it."""

    sha256 = models.CharField(max_length=64, unique=True)
    git_sha1 = models.CharField(max_length=40, db_index=True)
    # The git id of this content's LFS pointer file, so a pushed tree that names a pointer the
    # push did not carry (a moved LFS file) finds its content with one indexed lookup.
    pointer_oid = models.CharField(max_length=40, db_index=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256

    @property
    def storage_key(self) -> str:
        return blob_storage_key(self.sha256)


def blob_storage_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class RepoBlob(models.Model):
    """Content a repository may reference: uploaded to it, or reachable from its history.

    Knowing a sha256 is not enough to commit it: an LFS batch answers "upload" for content this
    repository does not hold yet, so nobody can claim another repository's private bytes by hash.
    """

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="blob_links")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="repo_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "blob"], name="repo_blob_unique")]

    def __str__(self) -> str:
        return f"{self.repo_id}:{self.blob_id}"


class GitTree(models.Model):
    """A git tree object. ``entries`` lists ``[mode, name, oid]`` for sub-trees and
    ``[mode, name, oid, size, sha256, is_lfs]`` for files, in git order; ``oid`` of an LFS file is
    the id of its pointer blob."""

    oid = models.CharField(max_length=40, unique=True)
    entries = models.JSONField()
    # The tree as a pack carries it (``registry.git.packs.pack_entry``: header and zlib data of
    # its git body), written with the row so a fetch copies it instead of encoding and compressing.
    pack_entry = models.BinaryField(null=True, blank=True)

    def __str__(self) -> str:
        return self.oid


class GitCommit(models.Model):
    """An immutable commit of one repository."""

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="commits")
    oid = models.CharField(max_length=40)
    tree_oid = models.CharField(max_length=40)
    parents = models.JSONField(default=list)
    # Longest distance to a root commit: orders history newest first without a graph walk.
    generation = models.PositiveIntegerField()
    title = models.CharField(max_length=500)
    message = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_name = models.CharField(max_length=150)
    author_email = models.CharField(max_length=254)
    authored_at = models.DateTimeField()
    # The commit object's body exactly as git hashed it, kept for commits the hub did not sign
    # itself (pushed over git: their committer, time zones and signatures are not in the fields
    # above). Empty for the hub's own commits, whose body ``registry.git.objects.commit_body``
    # rebuilds from the fields (``registry.selectors.packs.commit_raw``).
    raw = models.BinaryField(null=True, blank=True)
    # The commit as a pack carries it (``registry.git.packs.pack_entry``), written with the row.
    pack_entry = models.BinaryField(null=True, blank=True)
    # What this commit adds to its parents, path by path (``registry.selectors.packs.NewObjects``
    # as JSON: ``{"trees": [oid, ...], "blobs": [[oid, sha256, size, is_lfs], ...]}``), so a fetch
    # unions the lists of the commits it sends instead of walking their trees. Null until computed
    # (rows older than the column get it the first time a fetch sends them).
    new_objects = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "oid"], name="commit_oid_unique")]

    def __str__(self) -> str:
        return self.oid


class Ref(models.Model):
    """A named pointer to a commit: ``refs/heads/*``, ``refs/tags/*``, ``refs/pr/N``, ``refs/convert/*``."""

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="refs")
    name = models.CharField(max_length=255)
    target_oid = models.CharField(max_length=40)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "name"], name="ref_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} -> {self.target_oid}"


class UploadSession(models.Model):
    """A resumable multipart upload of one LFS object (the LFS API's ``multipart`` transfer and
    the browser's chunked uploads use the same sessions)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="upload_sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    chunk_size = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=UploadStatus.choices, default=UploadStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"upload {self.id} of {self.sha256}"

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // self.chunk_size))


from registry.models_access import AccessRequest  # noqa: E402, F401  (gated access, see that module)
from registry.models_collections import Collection, CollectionItem, CollectionUpvote  # noqa: E402, F401  (see that module)
from registry.models_scans import BlobScan, Conversion, ScanRelease  # noqa: E402, F401  (scans, see that module)
from registry.models_xet import XetFile, XetFileXorb, Xorb  # noqa: E402, F401  (Xet index, see that module)
