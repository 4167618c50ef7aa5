"""Reads behind the HTML pages: listings and their facets, the home page, a repository's overview,
file contents, tutorial pages and profiles. Visibility always comes from ``Repo.objects.visible_to``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet

from registry.access import Permission, repo_role
from registry.cards import Card, card_parse
from registry.cards.iso639 import ISO_639_1
from registry.cards.vocab import SPECIAL_LANGUAGES
from registry.choices import RepoType
from registry.models import Like, Ref, Repo, RepoTag, blob_storage_key
from registry.selectors.repos import RepoFilters, repo_listing
from registry.selectors.revisions import Revision
from registry.storage import blob_storage
from registry.trees import FileInfo, tree_files, tree_lookup

LISTING_PAGE_SIZE = 30
HOME_SECTION_SIZE = 6
FACET_SIZE = 12
# Facets count public repositories only, so one cached answer serves everybody without telling
# anyone about private repositories' tags.
FACET_CACHE_SECONDS = 300
README = "README.md"
# READMEs and tutorial pages larger than this are not read for display.
MAX_MARKDOWN_BYTES = 5 * 1024 * 1024
MAX_TUTORIAL_PAGES = 100
_LANGUAGES = ISO_639_1 | SPECIAL_LANGUAGES
_HEADING = re.compile(r"^#{1,2}\s+(.+?)\s*#*\s*$", re.MULTILINE)


# ------------------------------------------------------------------------------------- listings


@dataclass(frozen=True)
class Facet:
    value: str
    count: int


@dataclass(frozen=True)
class ListingFacets:
    pipeline_tags: list[Facet]
    libraries: list[Facet]
    licenses: list[Facet]
    languages: list[Facet]
    tags: list[Facet]


def _field_facet(queryset: QuerySet, name: str) -> list[Facet]:
    rows = queryset.exclude(**{name: ""}).values(name).annotate(n=Count("id")).order_by("-n", name)[:FACET_SIZE]
    return [Facet(value=row[name], count=row["n"]) for row in rows]


def listing_facets(*, repo_type: RepoType) -> ListingFacets:
    """The most common filter values among public repositories of ``repo_type`` (cached)."""
    key = f"pages:facets:{repo_type.value}"
    facets = cache.get(key)
    if facets is not None:
        return facets
    public = Repo.objects.filter(type=repo_type, private=False)
    pipeline_tags = _field_facet(public, "pipeline_tag")
    libraries = _field_facet(public, "library_name")
    licenses = _field_facet(public, "license")
    known = {facet.value for facet in pipeline_tags + libraries}
    tag_rows = (
        RepoTag.objects.filter(repo__type=repo_type, repo__private=False)
        .values("tag")
        .annotate(n=Count("repo_id"))
        .order_by("-n", "tag")[: FACET_SIZE * 8]
    )
    languages, tags = [], []
    for row in tag_rows:
        tag = row["tag"]
        if tag in _LANGUAGES:
            languages.append(Facet(value=tag, count=row["n"]))
        elif ":" not in tag and tag not in known:
            tags.append(Facet(value=tag, count=row["n"]))
    facets = ListingFacets(
        pipeline_tags=pipeline_tags,
        libraries=libraries,
        licenses=licenses,
        languages=languages[:FACET_SIZE],
        tags=tags[:FACET_SIZE],
    )
    cache.set(key, facets, FACET_CACHE_SECONDS)
    return facets


def repo_listing_page(*, user, filters: RepoFilters, page: int) -> Page:
    """One page of the repositories ``user`` may see that match ``filters``.

    Pages past the last one give the last page. A search counts its matches up to a cap
    (``RepoListing``: ``page.paginator.object_list.capped``). Raises ``ValidationError`` for an
    unknown sort.
    """
    paginator = Paginator(repo_listing(user=user, filters=filters), LISTING_PAGE_SIZE)
    return paginator.get_page(page)


@dataclass(frozen=True)
class HomeSection:
    repo_type: RepoType
    trending: list[Repo]
    recent: list[Repo]


def home_sections(*, user) -> list[HomeSection]:
    """Trending and recently updated models, datasets and tutorials (two queries per type)."""
    sections = []
    for repo_type in RepoType:
        visible = Repo.objects.visible_to(user).filter(type=repo_type).select_related("namespace")
        sections.append(
            HomeSection(
                repo_type=repo_type,
                trending=list(visible.order_by("-trending_score", "-last_modified", "-id")[:HOME_SECTION_SIZE]),
                recent=list(visible.order_by("-last_modified", "-id")[:HOME_SECTION_SIZE]),
            )
        )
    return sections


def namespace_repos(*, user, namespace) -> dict[RepoType, list[Repo]]:
    """The repositories of ``namespace`` that ``user`` may see, by type, recently updated first."""
    grouped: dict[RepoType, list[Repo]] = {repo_type: [] for repo_type in RepoType}
    repos = (
        Repo.objects.visible_to(user)
        .filter(namespace=namespace)
        .select_related("namespace")
        .order_by("-last_modified", "-id")
    )
    for repo in repos:
        grouped[RepoType(repo.type)].append(repo)
    return grouped


# --------------------------------------------------------------------------------- file content


def file_read(*, file: FileInfo, limit: int) -> bytes:
    """The first ``limit`` bytes of ``file`` (content addressed: no query needed)."""
    with blob_storage().open(blob_storage_key(file.sha256), "rb") as handle:
        return handle.read(limit)


def looks_binary(data: bytes) -> bool:
    """True for content a text view cannot show: a NUL byte, or bytes that are not UTF-8."""
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A character cut at the end of a partial read is still text.
        return exc.start < len(data) - 3
    return False


def markdown_file_text(*, file: FileInfo) -> str | None:
    """The text of a markdown file, or None when it is too large or not UTF-8."""
    if file.size > MAX_MARKDOWN_BYTES:
        return None
    data = file_read(file=file, limit=MAX_MARKDOWN_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def card_of(*, file: FileInfo, repo_type: str) -> Card | None:
    """The parsed card of a README (cached by content), or None when it cannot be read as text."""
    key = f"pages:card:{repo_type}:{file.sha256}"
    card = cache.get(key)
    if card is None:
        text = markdown_file_text(file=file)
        if text is None:
            return None
        card = card_parse(text, repo_type=repo_type)
        cache.set(key, card, 24 * 3600)
    return card


# ---------------------------------------------------------------------------- repository pages


@dataclass
class RepoOverview:
    """What the page of a repository shows beside its README, read from one revision's tree."""

    readme: FileInfo | None
    card: Card | None
    file_count: int
    total_size: int
    safetensors_files: list[FileInfo] = field(default_factory=list)


def repo_can_write(*, user, repo: Repo) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    role = repo_role(user=user, repo=repo)
    return role is not None and role >= Permission.WRITE


def repo_rights(*, user, repo: Repo) -> tuple[bool, bool]:
    """``(can_write, can_admin)`` of ``user`` on ``repo``, from one look-up of their role."""
    if user is None or not user.is_authenticated:
        return False, False
    if user.is_staff:
        return True, True
    role = repo_role(user=user, repo=repo)
    return role is not None and role >= Permission.WRITE, role == Permission.ADMIN


def repo_can_admin(*, user, repo: Repo) -> bool:
    """Whether ``user`` administers ``repo`` (settings, access requests); site staff do."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or repo_role(user=user, repo=repo) == Permission.ADMIN


def repo_liked(*, user, repo: Repo) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return Like.objects.filter(user=user, repo=repo).exists()


def repo_overview(*, repo: Repo, revision: Revision) -> RepoOverview:
    files = tree_files(revision.commit.tree_oid)
    readme = next((info for info in files if info.path == README), None)
    return RepoOverview(
        readme=readme,
        card=card_of(file=readme, repo_type=repo.type) if readme is not None else None,
        file_count=len(files),
        total_size=sum(info.size for info in files),
        safetensors_files=[info for info in files if info.path.endswith(".safetensors")],
    )


@dataclass(frozen=True)
class RefChoice:
    name: str  # as written in URLs: "main", "v1.0", "refs/pr/3"
    kind: str  # "branch", "tag" or "pr"
    target: str


def repo_ref_choices(*, repo: Repo) -> list[RefChoice]:
    """Branches (default first), tags and pull-request refs, for revision selectors."""
    choices = []
    for name, target in Ref.objects.filter(repo=repo).order_by("name").values_list("name", "target_oid"):
        if name.startswith("refs/heads/"):
            choices.append(RefChoice(name=name.removeprefix("refs/heads/"), kind="branch", target=target))
        elif name.startswith("refs/tags/"):
            choices.append(RefChoice(name=name.removeprefix("refs/tags/"), kind="tag", target=target))
        elif name.startswith("refs/pr/"):
            choices.append(RefChoice(name=name, kind="pr", target=target))
    order = {"branch": 0, "tag": 1, "pr": 2}
    choices.sort(key=lambda c: (order[c.kind], c.name != repo.default_branch))
    return choices


# ---------------------------------------------------------------------------------- tutorials


@dataclass(frozen=True)
class TutorialPage:
    path: str
    title: str


def _title_from_name(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"^\d+[-_. ]*", "", stem)
    return stem.replace("-", " ").replace("_", " ").strip().capitalize() or path


def _page_title(file: FileInfo, fallback: str) -> str:
    key = f"pages:title:{file.sha256}"
    title = cache.get(key)
    if title is None:
        text = file_read(file=file, limit=64 * 1024).decode("utf-8", "replace")
        if text.startswith("---"):
            end = text.find("\n---", 3)
            text = text[end + 4 :] if end != -1 else text
        match = _HEADING.search(text)
        title = match.group(1).strip() if match else ""
        cache.set(key, title, 24 * 3600)
    return title or fallback


def tutorial_pages(*, repo: Repo, tree_oid: str) -> list[TutorialPage]:
    """The pages of a tutorial in reading order: README.md first, then the other markdown files
    by path (authors number them: ``01-setup.md``, ``02-training.md``). Titles are each page's
    first heading, else its file name."""
    files = [info for info in tree_files(tree_oid) if info.path.lower().endswith(".md")]
    readme = [info for info in files if info.path == README]
    others = sorted((info for info in files if info.path != README), key=lambda info: info.path)
    pages = []
    for info in (readme + others)[:MAX_TUTORIAL_PAGES]:
        fallback = repo.name if info.path == README else _title_from_name(info.path)
        pages.append(TutorialPage(path=info.path, title=_page_title(info, fallback)))
    return pages


def tutorial_page_file(*, tree_oid: str, path: str) -> FileInfo | None:
    info = tree_lookup(tree_oid, path)
    return info if isinstance(info, FileInfo) and path.lower().endswith(".md") else None
