"""Pages that gather content from several apps: home, listings, search, the new-repository form,
profiles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix
from django.views.decorators.http import require_GET, require_http_methods

from common.errors import HubError, NotFound, PermissionDenied, ValidationError, error_response
from community.selectors import with_open_discussion_counts
from evals.leaderboards.selectors import leaderboard_list
from frontend.forms import RepoCreateForm
from frontend.pages import page_view, render_error
from hub.choices import NamespaceKind
from hub.permissions import OrgAction, role_allows
from hub.selectors import membership_role, namespace_get, organization_members_list, user_memberships_list
from hub.views import form_errors_from
from registry.choices import RepoType
from registry.selectors.pages import home_sections, listing_facets, namespace_repos, repo_listing_page
from registry.selectors.repos import RepoFilters
from registry.selectors.search import site_search
from registry.services.repos import repo_create
from training_runner.jobs.selectors import RunFilters, run_list

HOME_RUNS = 6
HOME_BOARDS = 6
LISTING_TYPES = {"models": RepoType.MODEL, "datasets": RepoType.DATASET, "tutorials": RepoType.TUTORIAL}
SORTS = {
    "trending": "Trending",
    "downloads": "Most downloads",
    "likes": "Most likes",
    "updated": "Recently updated",
    "created": "Recently created",
}
# Query parameters of a listing that filter it, with the label their chips show.
FILTER_LABELS = {
    "author": "Author",
    "pipeline_tag": "Task",
    "library": "Library",
    "license": "License",
    "language": "Language",
    "tag": "Tag",
}


@require_GET
@page_view
def home(request: HttpRequest) -> HttpResponse:
    runs = run_list(user=request.user, filters=RunFilters())[:HOME_RUNS]
    boards = leaderboard_list()[:HOME_BOARDS]
    context = {"sections": home_sections(user=request.user), "runs": runs, "boards": boards}
    return render(request, "frontend/home.html", context)


@require_GET
@page_view
def listing(request: HttpRequest, plural: str) -> HttpResponse:
    """``/models``, ``/datasets``, ``/tutorials``: search, filters and sort in the query string."""
    repo_type = LISTING_TYPES[plural]
    params = request.GET
    sort = params.get("sort") or "trending"
    if sort not in SORTS:
        raise ValidationError(f"Unknown sort '{sort}': use one of {', '.join(SORTS)}.")
    filters = RepoFilters(
        repo_type=repo_type,
        search=params.get("search", "").strip(),
        author=params.get("author", "").strip(),
        tags=tuple(tag for tag in params.getlist("tag") if tag),
        pipeline_tag=params.get("pipeline_tag", ""),
        library=params.get("library", ""),
        license=params.get("license", ""),
        language=params.get("language", ""),
        sort=sort,
    )
    page = repo_listing_page(user=request.user, filters=filters, page=params.get("p") or 1)
    page.object_list = with_open_discussion_counts(page.object_list)
    active = [
        {"label": label, "key": key, "value": value}
        for key, label in FILTER_LABELS.items()
        for value in params.getlist(key)
        if value
    ]
    context = {
        "plural": plural,
        "repo_type": repo_type,
        "page": page,
        "filters": filters,
        "sort": sort,
        "sorts": SORTS,
        "facets": listing_facets(repo_type=repo_type),
        "active": active,
    }
    return render(request, "frontend/listing.html", context)


# How many matches of each kind the search page and the header's suggestions show.
SEARCH_PAGE_LIMIT = 20
SUGGESTION_LIMIT = 5


@require_GET
@page_view
def search(request: HttpRequest) -> HttpResponse:
    """``/search?q=…``: models, datasets, tutorials, people and organizations, grouped by kind."""
    results = site_search(user=request.user, query=request.GET.get("q", ""), limit=SEARCH_PAGE_LIMIT)
    return render(request, "frontend/search.html", {"results": results})


@require_GET
def search_suggest(request: HttpRequest) -> JsonResponse:
    """``/search/suggest?q=…``: the few best matches of each kind, for the header's search box."""
    results = site_search(user=request.user, query=request.GET.get("q", ""), limit=SUGGESTION_LIMIT)
    groups = [
        {
            "kind": group.repo_type.value,
            "label": f"{group.repo_type.label}s",
            "total": group.total,
            "capped": group.capped,
            "items": [
                {"label": repo.repo_id, "url": repo.web_path, "detail": repo.pipeline_tag} for repo in group.repos
            ],
        }
        for group in results.groups
    ]
    groups.append(
        {
            "kind": "namespace",
            "label": "People and organizations",
            "total": results.namespace_total,
            "capped": results.namespace_capped,
            "items": [
                {
                    "label": namespace.name,
                    "url": f"{get_script_prefix()}{namespace.name}",
                    "detail": _display_name(namespace),
                }
                for namespace in results.namespaces
            ],
        }
    )
    return JsonResponse({"query": results.query, "groups": [group for group in groups if group["items"]]})


def _display_name(namespace) -> str:
    owner = namespace.user if namespace.kind == NamespaceKind.USER else namespace.organization
    return owner.fullname


@login_required
@require_http_methods(["GET", "POST"])
@page_view
def repo_new(request: HttpRequest) -> HttpResponse:
    """``/new``: create a model, dataset or tutorial repository (``?type=dataset`` preselects)."""
    owners = [request.user.username] + [m.organization.name for m in user_memberships_list(user=request.user)]
    requested_type = request.GET.get("type")
    initial = {"type": requested_type if requested_type in RepoType.values else RepoType.MODEL}
    if request.GET.get("owner") in owners:
        initial["owner"] = request.GET["owner"]
    form = RepoCreateForm(request.POST or None, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            repo = repo_create(
                user=request.user,
                namespace=namespace_get(name=values["owner"]),
                name=values["name"].strip(),
                repo_type=RepoType(values["type"]),
                private=values["visibility"] == "private",
            )
        except HubError as error:
            form_errors_from(form, error)
        else:
            messages.success(request, f"Repository {repo.repo_id} created. Add files or write its card.")
            return redirect(repo.web_path)
    return render(request, "frontend/repo_new.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@page_view
def profile(request: HttpRequest, name: str) -> HttpResponse:
    """The page of a user or an organization, with the repositories the visitor may see."""
    try:
        namespace = namespace_get(name=name)
    except NotFound:
        raise Http404(name) from None
    if namespace.name != name:
        return redirect("profile", name=namespace.name)
    repos = namespace_repos(user=request.user, namespace=namespace)
    sections = [
        {"repo_type": repo_type, "plural": repo_type.api_plural, "repos": items} for repo_type, items in repos.items()
    ]
    context = {"namespace": namespace, "sections": sections, "repo_total": sum(len(items) for items in repos.values())}
    if namespace.kind == NamespaceKind.USER:
        person = namespace.user
        can_create = request.user.is_authenticated and request.user.pk == person.pk
        context |= {"person": person, "memberships": user_memberships_list(user=person), "can_create": can_create}
        return render(request, "hub/profile_user.html", context)
    organization = namespace.organization
    my_role = membership_role(user=request.user, organization=organization)
    context |= {
        "organization": organization,
        "memberships": organization_members_list(organization=organization),
        "my_role": my_role,
        "can_create": role_allows(my_role, OrgAction.CREATE_REPO),
    }
    return render(request, "hub/profile_org.html", context)


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form sent without its valid token (most often a page left open
    across a log-in or log-out) — the site's own page, or the one JSON error shape for scripts."""
    error = CsrfFailed(
        "This form has expired: the page was open across a log-in or log-out, or cookies are blocked. "
        "Go back, reload the page and send it again."
    )
    if "application/json" in request.headers.get("Accept", ""):
        return error_response(error)
    return render_error(request, error, title="This form has expired")
