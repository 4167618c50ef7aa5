"""Routes of the registry: the HF-compatible API (under ``/api/``) and file URLs at the root."""

from django.urls import path, re_path

from registry import apis
from registry.githttp import views as git
from registry.hf import access_requests, collections, files, lfs, likes, repos

_TYPES = r"(?P<plural>models|datasets|tutorials|spaces|kernels)"
_REPO = _TYPES + r"/(?P<namespace>[^/]+)/(?P<name>[^/]+)"
# For the routes other apps add under a repository of the HF API (``community.urls``).
HF_REPO_PATTERN = _REPO

# What follows ``/api/{type}s/{ns}/{name}/`` in the routes below.
_SUB_ROUTES = (
    "revision|settings|refs|commits|branch|tag|preupload|commit|paths-info|tree|discussions|super-squash|auth-check"
    "|lfs-files|xet-write-token|xet-read-token|user-access-request"
)

# Mounted under ``api/``.
hf_api_urlpatterns = [
    path("repos/create", repos.repo_create, name="hf-repo-create"),
    path("repos/delete", repos.repo_delete, name="hf-repo-delete"),
    path("repos/move", repos.repo_move, name="hf-repo-move"),
    path("validate-yaml", repos.validate_yaml, name="hf-validate-yaml"),
    path("lfs/objects/<str:token>", lfs.object_transfer, name="lfs-object"),
    path("lfs/parts/<str:token>", lfs.part_upload, name="lfs-part"),
    path("lfs/complete/<str:token>", lfs.complete, name="lfs-complete"),
    path("lfs/verify/<str:token>", lfs.verify, name="lfs-verify"),
    path("users/<str:username>/likes", likes.user_likes, name="hf-user-likes"),
    path("collections", collections.collections, name="hf-collections"),
    path("collections/<str:owner>/<str:slug>", collections.collection_detail, name="hf-collection"),
    path("collections/<str:owner>/<str:slug>/items", collections.collection_items, name="hf-collection-items"),
    path(
        "collections/<str:owner>/<str:slug>/items/<str:item_key>",
        collections.collection_item,
        name="hf-collection-item",
    ),
    re_path(rf"^{_TYPES}$", repos.repo_listing, name="hf-repo-list"),
    re_path(rf"^{_TYPES}/(?P<name>[^/]+)$", repos.repo_without_namespace),
    re_path(rf"^{_REPO}$", repos.repo_info, name="hf-repo-info"),
    re_path(rf"^{_REPO}/revision/(?P<revision>.+)$", repos.repo_info, name="hf-repo-info-revision"),
    re_path(rf"^{_REPO}/settings$", repos.repo_settings, name="hf-repo-settings"),
    re_path(rf"^{_REPO}/like$", likes.repo_like, name="hf-repo-like"),
    re_path(rf"^{_REPO}/likers$", likes.repo_likers, name="hf-repo-likers"),
    re_path(
        rf"^{_REPO}/user-access-request/(?P<status>pending|accepted|rejected)$",
        access_requests.access_request_list,
        name="hf-access-requests",
    ),
    re_path(rf"^{_REPO}/user-access-request/handle$", access_requests.access_request_handle),
    re_path(rf"^{_REPO}/user-access-request/grant$", access_requests.access_request_grant),
    re_path(rf"^{_REPO}/refs$", repos.repo_refs, name="hf-repo-refs"),
    re_path(rf"^{_REPO}/commits/(?P<revision>.+)$", repos.repo_commits, name="hf-repo-commits"),
    re_path(rf"^{_REPO}/branch/(?P<branch>.+)$", repos.repo_branch, name="hf-repo-branch"),
    re_path(rf"^{_REPO}/tag/(?P<revision>.+)$", repos.repo_tag, name="hf-repo-tag"),
    re_path(rf"^{_REPO}/preupload/(?P<revision>.+)$", repos.preupload, name="hf-preupload"),
    re_path(rf"^{_REPO}/paths-info/(?P<revision>.+)$", repos.paths_info, name="hf-paths-info"),
    re_path(rf"^{_REPO}/super-squash/(?P<revision>.+)$", repos.super_squash, name="hf-super-squash"),
    re_path(rf"^{_REPO}/lfs-files$", repos.lfs_files, name="hf-lfs-files"),
    re_path(rf"^{_REPO}/lfs-files/batch$", repos.lfs_files_batch, name="hf-lfs-files-batch"),
    re_path(rf"^{_REPO}/auth-check(?:/(?P<write>write))?$", repos.auth_check, name="hf-auth-check"),
    re_path(rf"^{_REPO}/tree/(?P<rest>.+)$", repos.repo_tree, name="hf-tree"),
]

# Mounted under ``api/`` after every other ``api/`` route (the Xet token routes included): an id
# without a namespace (``/api/models/x/revision/main``) never exists here.
namespaceless_api_urlpatterns = [
    re_path(rf"^{_TYPES}/(?P<name>[^/]+)/(?:{_SUB_ROUTES})(?:/.*)?$", repos.repo_without_namespace),
]

_PREFIX = r"(?:(?P<type_prefix>datasets|tutorials)/)?"
# Git remotes: ``/ns/name.git`` or, as people type them, ``/ns/name`` (names never end in ``.git``).
_GIT_REPO = _PREFIX + r"(?P<namespace>[^/]+)/(?P<name>[^/]+?)(?:\.git)?"

# Mounted at the root, before the HTML catch-alls.
file_urlpatterns = [
    re_path(rf"^{_PREFIX}(?P<namespace>[^/]+)/(?P<name>[^/]+)/resolve/(?P<rest>.+)$", files.resolve, name="resolve"),
    re_path(
        rf"^{_PREFIX}(?P<namespace>[^/]+)/(?P<name>[^/]+?)\.git/info/lfs/objects/batch$", lfs.batch, name="lfs-batch"
    ),
    re_path(rf"^{_PREFIX}(?P<namespace>[^/]+)/(?P<name>[^/]+?)\.git/info/lfs/locks(?:/.*)?$", git.lfs_locks),
    re_path(rf"^{_GIT_REPO}/info/refs$", git.info_refs, name="git-info-refs"),
    re_path(rf"^{_GIT_REPO}/git-upload-pack$", git.upload_pack, name="git-upload-pack"),
    re_path(rf"^{_GIT_REPO}/git-receive-pack$", git.receive_pack, name="git-receive-pack"),
]

# Mounted at the root after the repository pages: a file URL whose repository id has no namespace
# (``/x/resolve/main/f``) answers as the HF client expects rather than with a page.
namespaceless_file_urlpatterns = [
    re_path(rf"^{_PREFIX}(?P<name>[^/]+)/resolve/(?P<rest>.+)$", files.resolve_without_namespace),
]

_API_REPO = "repos/<str:types>/<str:namespace>/<str:name>"

# Mounted under ``api/v1/``.
api_urlpatterns = [
    path("repos", apis.RepoListCreateApi.as_view(), name="api-repos"),
    path(_API_REPO, apis.RepoDetailApi.as_view(), name="api-repo"),
    path(f"{_API_REPO}/move", apis.RepoMoveApi.as_view(), name="api-repo-move"),
    path(f"{_API_REPO}/refs", apis.RepoRefsApi.as_view(), name="api-repo-refs"),
    path(f"{_API_REPO}/branches/<path:branch>", apis.BranchApi.as_view(), name="api-repo-branch"),
    path(f"{_API_REPO}/tags/<path:tag>", apis.TagApi.as_view(), name="api-repo-tag"),
    path(f"{_API_REPO}/tree/<path:revision>", apis.TreeApi.as_view(), name="api-repo-tree"),
    path(f"{_API_REPO}/like", apis.LikeApi.as_view(), name="api-repo-like"),
    path(f"{_API_REPO}/access-requests", apis.AccessRequestListCreateApi.as_view(), name="api-repo-access-requests"),
    path(f"{_API_REPO}/audit-log", apis.RepoAuditLogApi.as_view(), name="api-repo-audit-log"),
    path(
        f"{_API_REPO}/access-requests/<id:request_id>",
        apis.AccessRequestDecisionApi.as_view(),
        name="api-repo-access-request",
    ),
]
