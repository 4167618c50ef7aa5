"""Routes of the community app: its HF-compatible API (under ``/api/``), its REST API (under
``/api/v1/``) and the Community tab's pages (at the root, before the repository pages)."""

from django.urls import path, re_path

from community import apis, views
from community.hf import commit, discussions
from registry.page_urls import REPO_PAGE_PATTERN
from registry.urls import HF_REPO_PATTERN

_REPO = HF_REPO_PATTERN
_NUM = r"discussions/(?P<num>\d+)"

# Mounted under ``api/``.
hf_api_urlpatterns = [
    re_path(rf"^{_REPO}/commit/(?P<revision>.+)$", commit.commit, name="hf-commit"),
    re_path(rf"^{_REPO}/discussions$", discussions.discussion_list, name="hf-discussions"),
    re_path(rf"^{_REPO}/{_NUM}$", discussions.discussion_detail, name="hf-discussion"),
    re_path(rf"^{_REPO}/{_NUM}/comment$", discussions.discussion_comment),
    re_path(rf"^{_REPO}/{_NUM}/status$", discussions.discussion_status),
    re_path(rf"^{_REPO}/{_NUM}/title$", discussions.discussion_title),
    re_path(rf"^{_REPO}/{_NUM}/merge$", discussions.discussion_merge),
    re_path(rf"^{_REPO}/{_NUM}/comment/(?P<comment_id>[^/]+)/edit$", discussions.comment_edit),
    re_path(rf"^{_REPO}/{_NUM}/comment/(?P<comment_id>[^/]+)/hide$", discussions.comment_hide),
]

_API_REPO = "repos/<str:types>/<str:namespace>/<str:name>"

# Mounted under ``api/v1/``.
api_urlpatterns = [
    path(f"{_API_REPO}/branch-rules/<path:branch>", apis.BranchRuleApi.as_view(), name="api-repo-branch-rule"),
    # Before the commits route, whose revision may hold slashes.
    path(f"{_API_REPO}/commits/<str:sha>/checks", apis.CommitChecksApi.as_view(), name="api-commit-checks"),
    path(f"{_API_REPO}/discussions/<id:num>/reviews", apis.ReviewCreateApi.as_view(), name="api-pull-request-reviews"),
    path(f"{_API_REPO}/discussions/<id:num>/merge", apis.MergeApi.as_view(), name="api-pull-request-merge"),
    path(f"{_API_REPO}/commits/<path:revision>", apis.CommitListCreateApi.as_view(), name="api-repo-commits"),
    path(f"{_API_REPO}/conversions", apis.ConversionCreateApi.as_view(), name="api-repo-conversions"),
    path(f"{_API_REPO}/conversions/<id:conversion_id>", apis.ConversionDetailApi.as_view(), name="api-repo-conversion"),
]

_PAGE_REPO = REPO_PAGE_PATTERN
_DISCUSSION = r"discussions/(?P<num>[1-9][0-9]{0,8})"
_COMMENT = r"comments/(?P<event_id>[1-9][0-9]{0,17})"

# Mounted at the root, before ``registry.page_urls``.
page_urlpatterns = [
    re_path(rf"^{_PAGE_REPO}/discussions$", views.community, name="repo-community"),
    re_path(rf"^{_PAGE_REPO}/convert$", views.convert, name="repo-convert"),
    re_path(rf"^{_PAGE_REPO}/settings/branch-rules$", views.branch_rules_page, name="repo-branch-rules"),
    re_path(rf"^{_PAGE_REPO}/discussions/new$", views.discussion_new, name="repo-discussion-new"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}$", views.discussion_page, name="repo-discussion"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/files$", views.pull_request_files, name="repo-pull-request-files"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/comment$", views.comment, name="repo-discussion-comment"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/status$", views.status, name="repo-discussion-status"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/title$", views.rename, name="repo-discussion-title"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/review$", views.review, name="repo-discussion-review"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/request-review$", views.request_review, name="repo-review-request"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/merge$", views.merge, name="repo-discussion-merge"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/{_COMMENT}/edit$", views.comment_edit, name="repo-comment-edit"),
    re_path(rf"^{_PAGE_REPO}/{_DISCUSSION}/{_COMMENT}/hide$", views.comment_hide, name="repo-comment-hide"),
]
