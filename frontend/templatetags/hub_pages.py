"""Template helpers of the hub's pages: repository URLs, sizes, parameter counts, query strings."""

from __future__ import annotations

from urllib.parse import quote

from django import template

register = template.Library()


@register.simple_tag
def repo_url(repo, action: str = "", rev: str = "", path: str = "") -> str:
    """``/[datasets/|tutorials/]ns/name[/action[/rev[/path]]]``, revision and path percent-encoded."""
    url = repo.web_path
    if action:
        url += f"/{action}"
    if rev:
        url += "/" + quote(rev, safe="/")
    if path:
        url += "/" + quote(path, safe="/")
    return url


@register.simple_tag(takes_context=True)
def clone_url(context, repo) -> str:
    """The git remote of ``repo`` on this hub, as the browser reached it (``http://host/ns/name``)."""
    return context["request"].build_absolute_uri(repo.web_path)


@register.filter
def size(value) -> str:
    """Bytes in decimal units, as the Hub writes them: ``999 B``, ``30.0 MB``, ``1.2 GB``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if number < 1000 or unit == "TB":
            return f"{int(number)} B" if unit == "B" else f"{number:.1f} {unit}"
        number /= 1000
    return ""


@register.filter
def params(value) -> str:
    """A parameter count in short form: ``950``, ``12.3K``, ``124M``, ``1.2B``."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    for threshold, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if number >= threshold:
            scaled = number / threshold
            return f"{scaled:.1f}{suffix}" if scaled < 100 else f"{scaled:.0f}{suffix}"
    return str(number)


@register.filter
def short_oid(value) -> str:
    return str(value or "")[:7]


@register.simple_tag(takes_context=True)
def query_without(context, key: str, value: str | None = None) -> str:
    """The current query string without ``key`` (or only without ``key=value``), from page 1."""
    params = context["request"].GET.copy()
    params.pop("p", None)
    if value is None:
        params.pop(key, None)
    else:
        params.setlist(key, [item for item in params.getlist(key) if item != value])
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def query_add(context, key: str, value: str) -> str:
    """The current query string with ``key=value`` added (kept once), from page 1."""
    params = context["request"].GET.copy()
    params.pop("p", None)
    values = [item for item in params.getlist(key) if item != value]
    params.setlist(key, [*values, value])
    return "?" + params.urlencode()
