"""URL routing: operations, the REST API, the OpenAI-compatible API, the HF-compatible API, file
routes, then the HTML site: listings, the arena and repository pages, the hub's pages, and last
the profile catch-all. (``/playground/`` never reaches Django: ``config/asgi.py`` passes it on to
the playground process, ``config/playground_asgi.py``.)

Order matters: ``/{name}`` and ``/{namespace}/{repo}`` are catch-alls, so they come last, and the
names they could shadow are reserved (``hub.services.namespaces.RESERVED_NAMES``).
"""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common import views as ops_views
from community import urls as community_urls
from community.moderation import urls as moderation_urls
from community.notifications import urls as notification_urls
from community.webhooks import urls as webhook_urls
from evals.leaderboards import urls as leaderboard_urls
from frontend import views as frontend_views
from hub import urls as hub_urls
from registry import page_urls
from registry import urls as registry_urls
from training_runner.inference import urls as inference_urls
from training_runner.jobs import urls as jobs_urls

api_v1_urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script from a URL of its own: no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *hub_urls.api_urlpatterns,
    *registry_urls.api_urlpatterns,
    *community_urls.api_urlpatterns,
    *jobs_urls.api_urlpatterns,
    *leaderboard_urls.api_urlpatterns,
    *inference_urls.api_urlpatterns,
    *webhook_urls.api_urlpatterns,
    *moderation_urls.api_urlpatterns,
]

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1_urlpatterns)),
    path("v1/", include(inference_urls.openai_urlpatterns)),
    path("api/", include(hub_urls.hf_urlpatterns)),
    path("api/", include(webhook_urls.hf_urlpatterns)),
    path("api/", include(community_urls.hf_api_urlpatterns)),
    path("api/", include(registry_urls.hf_api_urlpatterns)),
    path("", include("registry.xet_urls")),
    path("api/", include(registry_urls.namespaceless_api_urlpatterns)),
    *registry_urls.file_urlpatterns,
    path("", frontend_views.home, name="home"),
    re_path(r"^(?P<plural>models|datasets|tutorials)$", frontend_views.listing, name="listing"),
    path("new", frontend_views.repo_new, name="repo-new"),
    *jobs_urls.page_urlpatterns,
    *leaderboard_urls.page_urlpatterns,
    path("search", frontend_views.search, name="search"),
    path("search/suggest", frontend_views.search_suggest, name="search-suggest"),
    *inference_urls.page_urlpatterns,
    *notification_urls.page_urlpatterns,
    *webhook_urls.page_urlpatterns,
    *moderation_urls.page_urlpatterns,
    *community_urls.page_urlpatterns,
    *page_urls.page_urlpatterns,
    *registry_urls.namespaceless_file_urlpatterns,
    *hub_urls.page_urlpatterns,
    # The catch-all profile route must come after every other first-level route.
    path("<str:name>", frontend_views.profile, name="profile"),
]

handler400 = "common.views.bad_request"
handler404 = "common.views.page_not_found"
handler500 = "common.views.server_error"
