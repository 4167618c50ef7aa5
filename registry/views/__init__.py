"""HTML pages of one repository: its card, files, file viewer, raw files, history, commits, editing,
uploading, likes and tutorial pages, and gated access (the Community tab is ``community.views``).

Thin views: ``access_repo`` fetches and checks, selectors read, services write; markdown goes
through ``frontend.markdown`` (rendered and sanitised on the server). Templates live in
``frontend/templates/registry/``.

One module a group of pages: ``repo`` (the card and tutorial pages), ``files`` (tree, blob, raw),
``history`` (commits, commit), ``writing`` (edit, upload, like), ``access_requests`` (the access
form and the review of requests), ``audit_log`` (the repository's audit log); ``common`` holds what
they share. The views are re-exported here for ``registry.page_urls``. (No module is named after a
view it holds: ``registry.views.edit`` or ``registry.views.upload`` would then name the view here
and the module only in ``sys.modules``.)
"""

from registry.views.access_requests import access_requests_page, ask_access
from registry.views.audit_log import audit_log_page
from registry.views.common import COMMITS_PAGE_SIZE
from registry.views.files import blob, raw, tree
from registry.views.history import commit, commits
from registry.views.repo import repo_page, tutorial_page
from registry.views.writing import edit, like, upload, upload_parts

__all__ = [
    "COMMITS_PAGE_SIZE",
    "access_requests_page",
    "ask_access",
    "audit_log_page",
    "blob",
    "commit",
    "commits",
    "edit",
    "like",
    "raw",
    "repo_page",
    "tree",
    "tutorial_page",
    "upload",
    "upload_parts",
]
