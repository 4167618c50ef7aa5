"""Routes of the repository pages, mounted at the root after the file routes of ``registry.urls``
(``resolve/`` and ``.git/info/lfs``) and before the hub's pages.

``/{ns}/{name}`` shapes would shadow the hub's own two-segment pages (``/settings/profile``,
``/organizations/new``), so a namespace may not be one of the reserved first-level names — no user
or organization can be called that anyway (``hub.services.namespaces.RESERVED_NAMES``).
"""

import re

from django.urls import re_path

from hub.services.namespaces import RESERVED_NAMES
from registry import views
from registry.views import collections as collection_views

_RESERVED = "|".join(re.escape(name) for name in sorted(RESERVED_NAMES))
_PREFIX = r"(?:(?P<type_prefix>datasets|tutorials)/)?"
_REPO = _PREFIX + rf"(?P<namespace>(?!(?i:{_RESERVED})/)[^/]+)/(?P<name>[^/]+)"
# Models only (no type prefix), for routes other apps add under a model: ``/{ns}/{name}/playground``.
# Any repository, with the type prefix of datasets and tutorials: ``/{ns}/{name}``, ``/datasets/{ns}/{name}``.
REPO_PAGE_PATTERN = _REPO
REPO_PATTERN = rf"(?P<namespace>(?!(?i:{_RESERVED})/)[^/]+)/(?P<name>[^/]+)"

_COLLECTION = r"collections/(?P<owner>[^/]+)/(?P<slug>[^/]+)"

page_urlpatterns = [
    re_path(r"^collections$", collection_views.collection_list_page, name="collections"),
    re_path(r"^collections/new$", collection_views.collection_new, name="collection-new"),
    re_path(r"^collections/add$", collection_views.collection_add_to, name="collection-add-to"),
    re_path(rf"^{_COLLECTION}$", collection_views.collection_page, name="collection"),
    re_path(rf"^{_COLLECTION}/settings$", collection_views.collection_settings, name="collection-settings"),
    re_path(rf"^{_COLLECTION}/items$", collection_views.collection_item_add, name="collection-item-add"),
    re_path(rf"^{_COLLECTION}/items/(?P<item_key>[0-9a-f]{{24}})$", collection_views.collection_item_change),
    re_path(rf"^{_COLLECTION}/upvote$", collection_views.collection_upvote, name="collection-upvote"),
    re_path(rf"^{_COLLECTION}/delete$", collection_views.collection_delete, name="collection-delete"),
    re_path(rf"^{_REPO}$", views.repo_page, name="repo"),
    re_path(rf"^{_REPO}/tree/(?P<rest>.+)$", views.tree, name="repo-tree"),
    re_path(rf"^{_REPO}/blob/(?P<rest>.+)$", views.blob, name="repo-blob"),
    re_path(rf"^{_REPO}/raw/(?P<rest>.+)$", views.raw, name="repo-raw"),
    re_path(rf"^{_REPO}/commits/(?P<rest>.+)$", views.commits, name="repo-commits"),
    re_path(rf"^{_REPO}/commit/(?P<oid>[0-9a-fA-F]{{5,40}})$", views.commit, name="repo-commit"),
    re_path(rf"^{_REPO}/edit/(?P<rest>.+)$", views.edit, name="repo-edit"),
    re_path(rf"^{_REPO}/upload/(?P<rest>.+)$", views.upload, name="repo-upload"),
    re_path(rf"^{_REPO}/upload-parts$", views.upload_parts, name="repo-upload-parts"),
    re_path(rf"^{_REPO}/like$", views.like, name="repo-like"),
    re_path(rf"^{_REPO}/ask-access$", views.ask_access, name="repo-ask-access"),
    re_path(rf"^{_REPO}/settings/access-requests$", views.access_requests_page, name="repo-access-requests"),
    re_path(rf"^{_REPO}/settings/audit-log$", views.audit_log_page, name="repo-audit-log"),
    re_path(rf"^{_REPO}/page/(?P<path>.+)$", views.tutorial_page, name="repo-tutorial-page"),
]
