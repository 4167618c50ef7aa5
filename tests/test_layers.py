"""The layers of ARCHITECTURE.md §3, checked on the source: imports run one way, downward.

    pages (frontend, every app's views, page routes, forms and template tags)
      → runs / leaderboards / inference  → community → registry → hub → common

with ``training_runner.core``, ``training_runner.engine``, ``evals.harness`` and ``evals.suites``
pure: they import none of the above, nor Django. Every import counts, a lazy one inside a function
too. Two checks: no module imports a layer above its own, and no two domain apps import each
other, directly or around a longer cycle. A module's app and layer come from its dotted name
(:func:`layer_of`); a new module falls in its package's layer without being listed anywhere.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "hub", "registry", "community", "frontend", "training_runner", "evals")

PURE = ("training_runner.core", "training_runner.engine", "evals.harness", "evals.suites")
# Domain apps, from the bottom up; apps of one rank may import each other one way only.
DOMAIN = {
    "common": 0,
    "hub": 1,
    "registry": 2,
    "community": 3,
    "community.moderation": 3,  # above the discussions: it acts through their services
    "training_runner.jobs": 4,
    "training_runner.inference": 4,
    "evals.leaderboards": 4,
}
PAGES_RANK = 5
# Modules of a domain app that are pages: HTML views, their routes, forms and template tags.
PAGE_PARTS = {"views", "page_urls", "urls", "forms", "templatetags", "playgrounds", "asgi"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_of(module: str) -> str | None:
    for pure in PURE:
        if module == pure or module.startswith(pure + "."):
            return pure
    if module == "frontend" or module.startswith("frontend."):
        return "frontend"
    for app in sorted(DOMAIN, key=len, reverse=True):
        if module == app or module.startswith(app + "."):
            return app
    return None  # a package root such as ``training_runner`` or ``evals.__main__``: the command lines


def layer_of(module: str) -> int | None:
    """The rank of a module: pure code -1, a domain app's rank, pages 5; None outside the layers."""
    app = app_of(module)
    if app is None:
        return None
    if app in PURE:
        return -1
    if app == "frontend":
        return PAGES_RANK
    inner = module[len(app) + 1 :].split(".") if module != app else []
    # common's views are the operations endpoints and error handlers of the kernel, not pages.
    if app != "common" and inner and inner[0] in PAGE_PARTS:
        return PAGES_RANK
    return DOMAIN[app]


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # ``from registry import views`` imports the module ``registry.views``.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[module_name(path)] = path
    return modules


def _import_graph() -> dict[str, set[str]]:
    modules = _project_modules()
    graph = {}
    for module, path in modules.items():
        graph[module] = {name for name in _imports(path, module) if name in modules}
    return graph


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a layer above the importer's (pure code: of anything but pure code)."""
    found = []
    for importer, imported in sorted((a, b) for a, targets in graph.items() for b in targets):
        low, high = layer_of(importer), layer_of(imported)
        if low is None or high is None:
            continue
        if (low == -1 and high != -1) or (low != -1 and high > low):
            found.append(f"{importer} (layer {low}) imports {imported} (layer {high})")
    return found


def test_no_module_imports_a_layer_above_its_own():
    upward = upward_imports(_import_graph())
    assert upward == [], "Upward imports (ARCHITECTURE.md §3; use a signal or a hook):\n" + "\n".join(upward)


def test_pure_code_never_imports_django():
    offenders = []
    for module, path in _project_modules().items():
        if layer_of(module) == -1:
            offenders += [
                f"{module} imports {name}" for name in _imports(path, module) if name.split(".")[0] == "django"
            ]
    assert offenders == []


def app_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Cycles between domain apps (pages left out: they may import any app, and no app them)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for importer, targets in graph.items():
        if layer_of(importer) in (None, PAGES_RANK):
            continue
        for imported in targets:
            a, b = app_of(importer), app_of(imported)
            if layer_of(imported) != PAGES_RANK and a and b and a != b:
                edges[a].add(b)
    cycles = []

    def visit(app: str, path: list[str]) -> None:
        for nxt in sorted(edges[app]):
            if nxt == path[0]:
                cycles.append(" → ".join([*path, nxt]))
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest app
                visit(nxt, [*path, nxt])

    for start in sorted(edges):
        visit(start, [start])
    return cycles


def test_no_cycle_between_apps():
    cycles = app_cycles(_import_graph())
    assert cycles == [], "Apps importing each other:\n" + "\n".join(cycles)


def test_the_checks_catch_what_they_look_for():
    graph = {
        "registry.services.commits": {"community.models", "hub.models"},
        "evals.harness.run": {"common.errors"},
        "community.views": {"frontend.markdown", "registry.models"},
        "evals.leaderboards.services.follow": {"training_runner.jobs.models"},
        "training_runner.jobs.services.publish": {"evals.leaderboards.models"},
    }
    assert upward_imports(graph) == [
        "evals.harness.run (layer -1) imports common.errors (layer 0)",
        "registry.services.commits (layer 2) imports community.models (layer 3)",
    ]
    assert app_cycles(graph) == ["evals.leaderboards → training_runner.jobs → evals.leaderboards"]


def test_layer_map_covers_the_apps():
    assert layer_of("community.services.changes") == 3
    assert layer_of("community.views") == layer_of("registry.views.writing") == layer_of("frontend.markdown") == 5
    assert layer_of("registry.hf.commit") == 2
    assert layer_of("evals.harness.run") == -1
