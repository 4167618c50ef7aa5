"""Template tags of the leaderboard pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def query_with(request, key: str, value) -> str:
    """The page's query string with ``key`` set to ``value`` (dropped when empty); a new sort or
    filter starts again at the first page."""
    params = request.GET.copy()
    if key != "page":
        params.pop("page", None)
    if value in ("", None):
        params.pop(key, None)
    else:
        params[key] = str(value)
    return params.urlencode()


@register.filter
def sort_toggle(key: str, request) -> str:
    """Sorting by a column: highest first, then lowest first when asked again."""
    return f"-{key}" if request.GET.get("sort") == key else key


@register.filter
def index(items, position: int):
    return items[position]


@register.filter
def score(value) -> str:
    if value is None:
        return ""
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


@register.filter
def half_width(cell: dict) -> float | None:
    low, high = cell["ci95"]
    return (high - low) / 2


@register.filter
def percent(value) -> str:
    return f"{100 * value:.1f} %"
