"""Every route of the URL configuration, each with a concrete path that resolves to it — so the
sweeps over endpoints (token scopes, crafted input) cover a new endpoint without anyone
remembering to list it."""

from __future__ import annotations

import re
from dataclasses import dataclass

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover
    import sre_constants
    import sre_parse

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

# Values for the named parts of routes, so paths point at the fixtures' objects where they can.
SAMPLES = {
    "plural": "models",
    "types": "models",
    "namespace": "alice",
    "name": "tiny",
    "username": "alice",
    "revision": "main",
    "branch": "main",
    "tag": "v1",
    "rest": "main/base.txt",
    "num": "1",
    "run_id": "1",
    "entry_id": "1",
    "token_id": "1",
    "comment_id": "1",
    "battle_id": "00000000-0000-0000-0000-000000000001",
    "side": "a",
    "task": "task",
    "token": "signed",
    "prefix": "default",
    "fmt": "json",
    "uidb64": "MQ",
}
_CONVERTER_SAMPLES = {"int": "1", "id": "1", "str": "x", "slug": "x", "path": "a/b", "uuid": SAMPLES["battle_id"]}


@dataclass(frozen=True)
class Route:
    path: str
    view: object
    name: str | None
    patterns: tuple = ()

    @property
    def parameters(self) -> list[str]:
        names: list[str] = []
        for pattern in self.patterns:
            if isinstance(pattern, RoutePattern):
                names += re.findall(r"<(?:\w+:)?(\w+)>", str(pattern._route))
            else:
                names += list(re.compile(pattern._regex).groupindex)
        return names

    def path_with(self, **values: str) -> str:
        """The route's path with some of its named parts set to ``values`` (not escaped)."""
        return "/" + "".join(_sample(pattern, values) for pattern in self.patterns)

    @property
    def label(self) -> str:
        view = getattr(self.view, "view_class", None) or getattr(self.view, "cls", None) or self.view
        return f"{view.__module__}.{getattr(view, '__qualname__', view)}"


def _route_sample(route: str, samples: dict[str, str]) -> str:
    def part(match: re.Match) -> str:
        converter, name = match.group(1) or "str", match.group(2)
        return samples.get(name, _CONVERTER_SAMPLES.get(converter, "x"))

    return re.sub(r"<(?:(\w+):)?(\w+)>", part, route)


def _class_char(items) -> str:
    negate = any(op == sre_constants.NEGATE for op, _ in items)
    if negate:
        return "a"
    op, value = items[0]
    if op == sre_constants.LITERAL:
        return chr(value)
    if op == sre_constants.RANGE:
        return chr(value[0])
    if op == sre_constants.CATEGORY:
        return "1" if value == sre_constants.CATEGORY_DIGIT else "a"
    return "a"


def _generate(parsed, names: dict[int, str], samples: dict[str, str]) -> str:
    out = []
    for op, value in parsed:
        if op == sre_constants.LITERAL:
            out.append(chr(value))
        elif op in (sre_constants.NOT_LITERAL, sre_constants.ANY):
            out.append("a")
        elif op == sre_constants.IN:
            out.append(_class_char(value))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _high, item = value
            out.append(_generate(item, names, samples) * low)
        elif op == sre_constants.SUBPATTERN:
            group, item = value[0], value[-1]
            name = names.get(group)
            out.append(samples[name] if name in samples else _generate(item, names, samples))
        elif op == sre_constants.BRANCH:
            out.append(_generate(value[1][0], names, samples))
        # AT (anchors) produce nothing.
    return "".join(out)


def _regex_sample(regex: str, samples: dict[str, str]) -> str:
    compiled = re.compile(regex)
    names = {index: name for name, index in compiled.groupindex.items()}
    return _generate(sre_parse.parse(regex), names, samples)


def _sample(pattern, overrides: dict[str, str] | None = None) -> str:
    samples = {**SAMPLES, **(overrides or {})}
    if isinstance(pattern, RoutePattern):
        return _route_sample(str(pattern._route), samples)
    if isinstance(pattern, RegexPattern):
        return _regex_sample(pattern._regex, samples)
    raise TypeError(f"Unknown URL pattern {pattern!r}")


def all_routes() -> list[Route]:
    """One concrete path per route (admin pages left out: Django's own)."""
    routes: list[Route] = []

    def walk(patterns, prefix: str, parents: tuple) -> None:
        for entry in patterns:
            path = prefix + _sample(entry.pattern)
            chain = (*parents, entry.pattern)
            if isinstance(entry, URLResolver):
                if path.startswith("admin/"):
                    continue
                walk(entry.url_patterns, path, chain)
            elif isinstance(entry, URLPattern):
                routes.append(Route(path="/" + path, view=entry.callback, name=entry.name, patterns=chain))

    walk(get_resolver().url_patterns, "", ())
    return routes


def routed_to_itself(route: Route) -> bool:
    """Whether the sample path resolves to the route it was made from (an earlier catch-all may
    shadow it, as ``/{namespace}/{name}`` shadows nothing but itself)."""
    return resolve(route.path).func is route.view
