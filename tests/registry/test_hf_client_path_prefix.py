"""The live-client smoke tests again, with the hub served under a path prefix
(``HUB_PATH_PREFIX=/hub``, ``HF_ENDPOINT=http://host/hub``): every URL the hub hands out — commit
and repository URLs, LFS and Xet upload targets, Link pages, redirects — must carry the prefix, or
the client goes astray."""

from pathlib import Path

import httpx
import pytest
from django.test import Client
from django.urls import set_script_prefix
from huggingface_hub import hf_hub_download

from common.prefix import PathPrefixMiddleware
from tests.registry.test_hf_client import (  # noqa: F401  (collected here again, with the prefixed hub)
    requests_seen,
    test_branch_name_with_slash,
    test_branches_commits_and_tags,
    test_cli_upload_and_download,
    test_create_repo_conflict_and_dataset,
    test_delete_file_and_folder,
    test_delete_repo,
    test_file_repo_and_revision_existence,
    test_hf_hub_download_cache_layout_and_local_dir,
    test_list_models_sort_limit_and_link_pages,
    test_listing_files_tree_and_paths_info,
    test_model_info_and_privacy,
    test_move_repo,
    test_stale_parent_commit_is_refused,
    test_tree_expand_gives_last_commits,
    test_upload_file_returns_commit_info,
    test_upload_folder_then_snapshot_is_byte_identical,
    test_whoami_and_bad_token,
)
from tests.registry.test_hf_client_hub_parity import (  # noqa: F401
    test_auth_check,
    test_create_tag_on_missing_revision,
    test_delete_folder_named_without_trailing_slash,
    test_ids_without_namespace_are_missing_repositories,
    test_list_and_permanently_delete_lfs_files,
    test_list_repo_commits_formatted,
    test_renamed_repository_redirects_from_its_former_id,
    test_super_squash_history_of_a_pull_request,
    test_upload_folder_skips_paths_the_gitignore_of_the_commit_excludes,
)
from tests.registry.test_lfs_uploads import (  # noqa: F401
    lfs_hub,
    test_multipart_upload,
    test_upload_folder_through_lfs_batch_put_and_verify,
)
from tests.support.hf import hub_client

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PREFIX = "/hub"


@pytest.fixture
def hub(live_server, settings):
    """alice's client with ``HF_ENDPOINT`` under the prefix. The live server runs the WSGI
    application as ``config.wsgi`` does, behind ``PathPrefixMiddleware``."""
    httpd = live_server.thread.httpd
    if not isinstance(httpd.get_app(), PathPrefixMiddleware):
        httpd.set_app(PathPrefixMiddleware(httpd.get_app()))
    # As in a process started with HUB_PATH_PREFIX (django.setup() sets the script prefix), before
    # settings read STATIC_URL: setting it (to its own value) makes the static storage anew.
    set_script_prefix(PREFIX + "/")
    settings.FORCE_SCRIPT_NAME = PREFIX
    settings.STATIC_URL = "static/"
    yield hub_client(live_server.url + PREFIX)
    set_script_prefix("/")


def test_the_prefix_is_required_of_urls_and_kept_in_pages(hub, tiny):
    """Routes answer under the prefix; pages link and redirect under it, static files included."""
    page = httpx.get(f"{hub.url}/{tiny}")
    assert page.status_code == 200
    assert f'href="{PREFIX}/{tiny}' in page.text
    assert f'<link rel="stylesheet" href="{PREFIX}/static/' in page.text
    assert f'href="{PREFIX}/settings/tokens"' in page.text
    assert f'<meta name="path-prefix" content="{PREFIX}">' in page.text
    login = httpx.get(f"{hub.url}/new")
    assert login.status_code == 302
    assert login.headers["Location"].startswith(f"{PREFIX}/login")


def test_gated_access_requests_under_the_prefix(hub, tiny, live_server, tmp_path):
    """The access-request calls and the gate's links work when the hub is served under a prefix."""
    hub.api.upload_file(path_or_fileobj=b"weights", path_in_repo="weights.bin", repo_id=tiny)
    hub.api.update_repo_settings(tiny, gated="manual")
    anonymous = httpx.get(f"{hub.url}/{tiny}")
    assert f'href="{PREFIX}/login?next={PREFIX}/{tiny}"' in anonymous.text
    bob = hub_client(live_server.url + PREFIX, "bob")
    page = Client()
    page.force_login(bob.user)
    assert page.post(f"/{tiny}/ask-access")["Location"] == f"{PREFIX}/{tiny}"
    assert [r.username for r in hub.api.list_pending_access_requests(tiny)] == ["bob"]
    hub.api.accept_access_request(tiny, "bob")
    path = hf_hub_download(tiny, "weights.bin", endpoint=bob.url, token=bob.token, cache_dir=tmp_path)
    assert Path(path).read_bytes() == b"weights"
