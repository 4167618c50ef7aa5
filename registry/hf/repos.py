"""HF-compatible repository endpoints: create, delete, move, settings, info, listings, refs,
history, branches, tags, card validation, preupload, paths-info and tree."""

from __future__ import annotations

import base64

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from common.errors import ValidationError
from common.inputs import value_bool, value_choice, value_int, value_str
from common.timefmt import iso_z
from hub.hf import hf_endpoint, read_json, require_user, require_write_scope
from hub.scopes import reads_over_post
from hub.selectors import namespace_get
from registry.access import Permission, access_repo, check_can_read_files
from registry.choices import RepoType
from registry.errors import EntryNotFound, RepoExists, RepoNotFound
from registry.hf import shapes
from registry.hf.common import (
    api_type,
    body_type,
    get_repo,
    get_repo_for_push,
    paginated,
    query_bool,
    query_int,
    repo_url,
)
from registry.models import GitCommit, Ref, Repo
from registry.selectors.commits import commit_history
from registry.selectors.files import last_commits
from registry.selectors.lfs_files import lfs_files_list
from registry.selectors.repos import (
    RepoFilters,
    RepoListing,
    repo_children_count,
    repo_cursor,
    repo_cursor_values,
    repo_head_oids,
    repo_list,
    repo_list_after,
    repo_ordering,
    repo_tags,
)
from registry.selectors.revisions import revision_path_split, revision_resolve
from registry.selectors.scans import file_scans, tree_scan_status
from registry.selectors.uploads import UploadCandidate, upload_advice
from registry.services import commits as commit_services
from registry.services import refs as ref_services
from registry.services import repos as repo_services
from registry.services.lfs_files import lfs_files_delete
from registry.trees import FileInfo, FolderInfo, tree_files, tree_list, tree_lookup, trees_files

# ---------------------------------------------------------------------------------------- repos


def _namespace_for(request: HttpRequest, organization: str | None):
    user = require_user(request)
    return namespace_get(name=organization) if organization else user.namespace


@hf_endpoint(methods=("POST",))
def repo_create(request: HttpRequest) -> JsonResponse:
    """``POST /api/repos/create``: 200 ``{"url"}``; 409 (with ``url``) when it exists."""
    user = require_write_scope(request)
    body = read_json(request)
    name, organization = body.get("name"), body.get("organization")
    if not isinstance(name, str) or (organization is not None and not isinstance(organization, str)):
        raise ValidationError("'name' must be a string and 'organization' a string or null.")
    repo_type = body_type(body.get("type"))
    namespace = _namespace_for(request, organization)
    if body.get("visibility") is not None:
        private = value_choice(body, "visibility", ("public", "private")) == "private"
    else:
        private = value_bool(body, "private")
    try:
        repo = repo_services.repo_create(
            user=user, namespace=namespace, name=name, repo_type=repo_type, private=private
        )
    except RepoExists as error:
        existing = Repo.objects.get(namespace=namespace, type=repo_type, name__iexact=name)
        return JsonResponse(
            {"error": error.message, "code": error.code, "url": repo_url(request, existing)}, status=409
        )
    return JsonResponse({"url": repo_url(request, repo), "name": repo.repo_id, "id": str(repo.pk)})


def _repo_from_body(request: HttpRequest, body: dict, *, need: Permission):
    name, organization = body.get("name"), body.get("organization")
    if not isinstance(name, str):
        raise ValidationError("'name' must be a string.")
    if organization is None:
        namespace = require_user(request).username
        if "/" in name:
            namespace, name = name.split("/", 1)
    else:
        namespace = organization
    return access_repo(
        user=request.user, repo_type=body_type(body.get("type")), namespace=namespace, name=name, need=need,
        token=request.hub_token,
    )  # fmt: skip


@hf_endpoint(methods=("DELETE",))
def repo_delete(request: HttpRequest) -> JsonResponse:
    require_write_scope(request)
    repo = _repo_from_body(request, read_json(request), need=Permission.ADMIN)
    repo_services.repo_delete(repo=repo, actor=request.user)
    return JsonResponse({})


@hf_endpoint(methods=("POST",))
def repo_move(request: HttpRequest) -> JsonResponse:
    """``POST /api/repos/move`` with ``{"fromRepo", "toRepo", "type"}``."""
    user = require_write_scope(request)
    body = read_json(request)
    source, target = body.get("fromRepo"), body.get("toRepo")
    if not isinstance(source, str) or not isinstance(target, str) or source.count("/") != 1 or target.count("/") != 1:
        raise ValidationError("'fromRepo' and 'toRepo' must be repository ids of the form namespace/name.")
    namespace, name = source.split("/")
    repo = access_repo(
        user=user, repo_type=body_type(body.get("type")), namespace=namespace, name=name, need=Permission.ADMIN,
        token=request.hub_token,
    )  # fmt: skip
    to_namespace, to_name = target.split("/")
    repo = repo_services.repo_move(repo=repo, user=user, to_namespace=namespace_get(name=to_namespace), to_name=to_name)
    return JsonResponse({"url": repo_url(request, repo)})


@hf_endpoint(methods=("PUT",))
def repo_settings(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    repo = get_repo(request, plural, namespace, name, need=Permission.ADMIN)
    body = read_json(request)
    private = None
    if body.get("visibility") is not None:
        private = value_choice(body, "visibility", ("public", "private")) == "private"
    elif body.get("private") is not None:
        private = value_bool(body, "private")
    repo_services.repo_update_settings(repo=repo, private=private, gated=body.get("gated"), actor=request.user)
    return JsonResponse({})


# ------------------------------------------------------------------------------- info, listings


@hf_endpoint(methods=("GET",))
def repo_info(request: HttpRequest, plural: str, namespace: str, name: str, revision: str | None = None):
    repo = get_repo(request, plural, namespace, name)
    resolved = revision_resolve(repo=repo, revision=revision)
    files = tree_files(resolved.commit.tree_oid)
    children = repo_children_count(user=request.user, repo=repo) if repo.type == RepoType.MODEL else None
    body = shapes.repo_info(
        repo, commit=resolved.commit, files=files, files_metadata=query_bool(request, "blobs"), children=children
    )
    if query_bool(request, "securityStatus"):
        status = tree_scan_status(repo=repo, tree_oid=resolved.commit.tree_oid, files=files)
        body["securityRepoStatus"] = shapes.security_repo_status(status)
    return JsonResponse(body)


@hf_endpoint(methods=("GET", "POST", "PUT", "DELETE"))
def repo_without_namespace(request: HttpRequest, plural: str, name: str):
    """``/api/models/<name>[/…]``: ids without a namespace never exist here."""
    api_type(plural)
    raise RepoNotFound(f"Repository {name} not found.")


@hf_endpoint(methods=("GET",))
def repo_listing(request: HttpRequest, plural: str) -> JsonResponse:
    """``GET /api/models`` (``/datasets``, ``/tutorials``): search, filters, sort, limit, Link pages."""
    repo_type = api_type(plural)
    # Every sort is descending; the client sends direction=-1 with it.
    query_int(request, "direction", -1, minimum=-1, maximum=-1)
    searches = [value for value in request.GET.getlist("search") if value]
    gated = request.GET.get("gated")
    filters = RepoFilters(
        repo_type=repo_type,
        search=" ".join(searches),
        author=request.GET.get("author", ""),
        # ``other`` is how the Hub's listing URLs spell tag filters (``other=base_model:finetune:x``).
        tags=tuple(request.GET.getlist("filter") + request.GET.getlist("other")),
        pipeline_tag=request.GET.get("pipeline_tag", ""),
        library=request.GET.get("library", ""),
        language=request.GET.get("language", ""),
        gated=None if gated is None else gated.lower() in {"1", "true"},
        sort=request.GET.get("sort", ""),
    )
    limit = query_int(request, "limit", 0, minimum=0)
    page_size = settings.HUB_LIST_PAGE_SIZE if not limit else min(limit, settings.HUB_LIST_PAGE_SIZE)
    ordering = repo_ordering(filters)
    full = query_bool(request, "full")
    card_data = query_bool(request, "cardData") or full
    # The text the search reads and the card's data (unless asked for) stay in the database.
    unread = ("search_document", "description") if card_data else ("search_document", "description", "card_data")
    queryset = repo_list(user=request.user, filters=filters).defer(*unread)
    # ``cursor``: the keyset cursor of the previous page's Link (its last row's sort values), or
    # a row offset, which older links carried and which still works.
    cursor = request.GET.get("cursor", "")
    if cursor and not cursor.isdigit():
        queryset = repo_list_after(queryset, ordering, repo_cursor_values(cursor, ordering))
        offset = 0
    else:
        offset = query_int(request, "cursor", 0)
    repos = list(RepoListing(queryset)[offset : offset + page_size + 1])
    next_cursor = repo_cursor(repos[page_size - 1], ordering) if len(repos) > page_size else None
    repos = repos[:page_size]
    repo_head_oids(repos)
    tags = repo_tags(repos)
    # ``expand`` is a repeated plain key (HF_PROTOCOL.md §7.7); only the model tree is added here.
    with_bases = "baseModels" in request.GET.getlist("expand")
    files = _head_files(repos) if full else {}
    items = []
    for repo in repos:
        item = shapes.repo_summary(repo, sha=repo.head_oid, tags=tags[repo.pk])
        if card_data:
            item["cardData"] = repo.card_data or {}
        if with_bases and (bases := shapes.base_models(item["tags"])) is not None:
            item["baseModels"] = bases
        if repo.pk in files:
            item["siblings"] = [shapes.sibling(info, files_metadata=False) for info in files[repo.pk]]
        items.append(item)
    return paginated(request, items, page_size=page_size, has_more=next_cursor is not None, next_cursor=next_cursor)


def _head_files(repos: list[Repo]) -> dict[int, list[FileInfo]]:
    """The files of each repository's head commit (``full=true``): one query for the commits,
    and the trees level by level for the whole page."""
    commits = GitCommit.objects.filter(
        repo_id__in=[repo.pk for repo in repos if repo.head_oid], oid__in={repo.head_oid for repo in repos}
    ).values_list("repo_id", "oid", "tree_oid")
    trees = {(repo_id, oid): tree_oid for repo_id, oid, tree_oid in commits}
    roots = {repo.pk: trees[(repo.pk, repo.head_oid)] for repo in repos if (repo.pk, repo.head_oid) in trees}
    by_root = trees_files(set(roots.values()))
    return {repo_id: by_root[root] for repo_id, root in roots.items()}


# ------------------------------------------------------------------------------ refs & history


@hf_endpoint(methods=("GET",))
def repo_refs(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    repo = get_repo(request, plural, namespace, name)
    body: dict[str, list] = {"branches": [], "converts": [], "tags": []}
    include_prs = query_bool(request, "include_prs")
    if include_prs:
        body["pullRequests"] = []
    for ref in Ref.objects.filter(repo=repo).order_by("name"):
        entry = shapes.ref_entry(ref.name, ref.target_oid)
        if ref.name.startswith("refs/heads/"):
            body["branches"].append(entry)
        elif ref.name.startswith("refs/tags/"):
            body["tags"].append(entry)
        elif ref.name.startswith("refs/convert/"):
            body["converts"].append(entry)
        elif ref.name.startswith("refs/pr/") and include_prs:
            body["pullRequests"].append(entry)
    return JsonResponse(body)


@hf_endpoint(methods=("GET",))
def repo_commits(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    repo = get_repo(request, plural, namespace, name)
    head = revision_resolve(repo=repo, revision=revision).commit
    offset = query_int(request, "cursor", 0)
    page_size = query_int(request, "limit", 50, minimum=1, maximum=1000)
    commits, more = commit_history(repo=repo, head=head, offset=offset, limit=page_size)
    formatted = "formatted" in request.GET.getlist("expand[]") + request.GET.getlist("expand")
    entries = [shapes.commit_entry(c, formatted=formatted) for c in commits]
    return paginated(request, entries, page_size=page_size, has_more=more)


@hf_endpoint(methods=("POST", "DELETE"))
def repo_branch(request: HttpRequest, plural: str, namespace: str, name: str, branch: str) -> HttpResponse:
    repo = get_repo(request, plural, namespace, name, need=Permission.WRITE)
    if request.method == "DELETE":
        ref_services.branch_delete(repo=repo, branch=branch, user=request.user)
        return JsonResponse({})
    body = read_json(request, required=False)
    starting_point = body.get("startingPoint")
    if starting_point is not None and not isinstance(starting_point, str):
        raise ValidationError("startingPoint must be a revision string.")
    ref_services.branch_create(repo=repo, branch=branch, starting_point=starting_point)
    return JsonResponse({})


@hf_endpoint(methods=("POST", "DELETE"))
def repo_tag(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> HttpResponse:
    """``POST .../tag/{revision}`` with ``{"tag"}`` creates; ``DELETE .../tag/{tag}`` deletes."""
    repo = get_repo(request, plural, namespace, name, need=Permission.WRITE)
    if request.method == "DELETE":
        ref_services.tag_delete(repo=repo, tag=revision)
        return JsonResponse({})
    body = read_json(request)
    tag, message = value_str(body, "tag", max_length=256), value_str(body, "message", default="", max_length=65_536)
    ref_services.tag_create(repo=repo, tag=tag, revision=revision, message=message)
    return JsonResponse({})


@hf_endpoint(methods=("POST",))
def super_squash(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    """``POST .../super-squash/{branch}`` with ``{"message"?}``: one commit, same tree, no history."""
    repo = get_repo(request, plural, namespace, name, need=Permission.WRITE)
    message = read_json(request, required=False).get("message") or f"Super-squash branch '{revision}'"
    if not isinstance(message, str):
        raise ValidationError("'message' must be a string.")
    commit = commit_services.history_squash(repo=repo, user=request.user, revision=revision, message=message)
    return JsonResponse({"commitOid": commit.oid})


@hf_endpoint(methods=("GET",))
def auth_check(request: HttpRequest, plural: str, namespace: str, name: str, write: str = "") -> JsonResponse:
    """``GET .../auth-check[/write]``: 200 when the caller may read the files (or write), else the
    error the client dispatches on (``RepoNotFound``, ``GatedRepo``, 401/403)."""
    repo = get_repo(request, plural, namespace, name, need=Permission.WRITE if write else Permission.READ)
    check_can_read_files(user=request.user, repo=repo)
    return JsonResponse({})


@hf_endpoint(methods=("GET",))
def lfs_files(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """``GET .../lfs-files``: the LFS objects of the repository's history (writers only), Link pages."""
    repo = get_repo(request, plural, namespace, name, need=Permission.WRITE)
    offset = query_int(request, "cursor", 0)
    page_size = query_int(request, "limit", 1000, minimum=1, maximum=1000)
    found = lfs_files_list(repo=repo)[offset : offset + page_size + 1]
    items = [
        {"fileOid": f.sha256, "filename": f.path, "oid": f.pointer_oid, "size": f.size, "ref": f.ref,
         "pushedAt": iso_z(f.pushed_at or repo.created_at)}
        for f in found
    ]  # fmt: skip
    return paginated(request, items, page_size=page_size)


@hf_endpoint(methods=("POST",))
def lfs_files_batch(request: HttpRequest, plural: str, namespace: str, name: str) -> JsonResponse:
    """``POST .../lfs-files/batch`` with ``{"deletions": {"sha": [fileOid…], "rewriteHistory": bool}}``."""
    repo = get_repo(request, plural, namespace, name, need=Permission.ADMIN)
    deletions = read_json(request).get("deletions")
    if not isinstance(deletions, dict) or not isinstance(deletions.get("sha"), list):
        raise ValidationError('\'deletions\' must be {"sha": [fileOid, …], "rewriteHistory": true}.')
    rewrite = deletions.get("rewriteHistory", True)
    rewritten = lfs_files_delete(repo=repo, sha256s=deletions["sha"], rewrite_history=rewrite is not False)
    return JsonResponse({"rewrittenCommits": rewritten})


# ----------------------------------------------------------------------------- cards, uploads


@reads_over_post
@hf_endpoint(methods=("POST",))
def validate_yaml(request: HttpRequest) -> JsonResponse:
    """``POST /api/validate-yaml``: 200 with warnings, or 400 with field-level errors."""
    from registry.cards import card_parse, validate_yaml_response

    body = read_json(request)
    content, repo_type = body.get("content"), body.get("repoType") or "model"
    if not isinstance(content, str):
        raise ValidationError("'content' must be the README text.")
    status, payload = validate_yaml_response(card_parse(content, repo_type=str(repo_type)))
    return JsonResponse(payload, status=status)


@hf_endpoint(methods=("POST",))
def preupload(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    """``POST .../preupload/{rev}``: how each file should be sent (HF_PROTOCOL.md §2.6 step 2)."""
    repo = get_repo_for_push(request, plural, namespace, name, revision)
    body = read_json(request)
    files, gitignore = body.get("files"), body.get("gitIgnore")
    if not isinstance(files, list):
        raise ValidationError("'files' must be a list.")
    if gitignore is not None and not isinstance(gitignore, str):
        raise ValidationError("'gitIgnore' must be the text of a .gitignore file.")
    candidates = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ValidationError("Each file needs a 'path'.")
        size = value_int(item.get("size") or 0, "size")
        if not isinstance(item.get("sample") or "", str):
            raise ValidationError("A file's 'sample' must be base64 text.", fields={"sample": ["Not a string."]})
        try:
            sample = base64.b64decode(item.get("sample") or "", validate=False)
        except (ValueError, TypeError):
            sample = b""
        candidates.append(UploadCandidate(path=item["path"], size=size, sample=sample))
    advice = upload_advice(repo=repo, revision=revision, files=candidates, gitignore=gitignore)
    answers = [
        {"path": a.path, "uploadMode": "lfs" if a.lfs else "regular", "shouldIgnore": a.ignored, "oid": a.remote_oid}
        for a in advice
    ]
    return JsonResponse({"files": answers, "commitOid": None})


@reads_over_post
@hf_endpoint(methods=("POST",))
def paths_info(request: HttpRequest, plural: str, namespace: str, name: str, revision: str) -> JsonResponse:
    """``POST .../paths-info/{rev}`` (form-encoded ``paths``): entries of the paths that exist."""
    repo = get_repo(request, plural, namespace, name)
    commit = revision_resolve(repo=repo, revision=revision).commit
    paths = request.POST.getlist("paths")
    if not paths and request.content_type == "application/json":
        paths = read_json(request).get("paths") or []
    if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
        raise ValidationError("'paths' must be a list of file paths.", fields={"paths": ["A list of strings."]})
    expand = request.POST.get("expand", "false").lower() == "true"
    found = [info for info in (tree_lookup(commit.tree_oid, path.strip("/")) for path in paths if path) if info]
    last = last_commits(repo=repo, head=commit, paths=[info.path for info in found]) if expand else {}
    scans = _scans_of(repo, found) if expand else {}
    return JsonResponse(
        [shapes.tree_entry(info, last_commit=last.get(info.path), security=_scan_of(scans, info)) for info in found],
        safe=False,
    )


def _scans_of(repo: Repo, entries) -> dict:
    return file_scans(repo=repo, sha256s=[e.sha256 for e in entries if isinstance(e, FileInfo)])


def _scan_of(scans: dict, entry):
    return scans.get(entry.sha256) if isinstance(entry, FileInfo) else None


@hf_endpoint(methods=("GET",))
def repo_tree(request: HttpRequest, plural: str, namespace: str, name: str, rest: str) -> JsonResponse:
    """``GET .../tree/{rev}[/{path}]?recursive=&expand=``."""
    repo = get_repo(request, plural, namespace, name)
    revision, path = revision_path_split(repo=repo, rest=rest)
    commit = revision_resolve(repo=repo, revision=revision).commit
    path = path.strip("/")
    if path and not isinstance(tree_lookup(commit.tree_oid, path), FolderInfo):
        raise EntryNotFound(f"No folder '{path}' at {revision}.")
    expand = query_bool(request, "expand")
    page_size = 50 if expand else 1000
    offset = query_int(request, "cursor", 0)
    entries = list(tree_list(commit.tree_oid, path, recursive=query_bool(request, "recursive")))
    page = entries[offset : offset + page_size + 1]
    last = last_commits(repo=repo, head=commit, paths=[e.path for e in page[:page_size]]) if expand else {}
    scans = _scans_of(repo, page) if expand else {}
    items = [shapes.tree_entry(e, last_commit=last.get(e.path), security=_scan_of(scans, e)) for e in page]
    return paginated(request, items, page_size=page_size)
