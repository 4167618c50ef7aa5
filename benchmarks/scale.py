"""Listings, search and pages at 100,000 repositories on PostgreSQL, and a mixed load test.

Seeds its own PostgreSQL database (``hub_scale`` by default; created and migrated here, kept
between runs so the seed is paid once) with ``benchmarks/scale_seed.py``: 1,000 users, 100
organizations and 100,000 repositories. Then it measures each listing, search and page request:
query counts in-process (Django's test client under ``CaptureQueriesContext``), latency through a
real server (uvicorn on ``config.asgi``, one process; ``--via client`` times the test client
instead).

    python benchmarks/scale.py                     # seed if needed, then measure
    python benchmarks/scale.py --reseed            # drop the database and seed again
    python benchmarks/scale.py --explain           # EXPLAIN ANALYZE of the listing's queries
    python benchmarks/scale.py --load --clients 200 --duration 60 --workers 2

``--load`` runs the mixed load test instead: ``--workers`` uvicorn processes on one port,
``--clients`` closed-loop clients from 127.0.0.1 for ``--duration`` seconds, each request drawn
from browse (listings, models page, repository page), search (API and page), resolve (GET of a
README), HEAD of a file and small uploads (a commit of a small file through the HF commit API,
each client to a repository of its own). Rate limits are raised for the run (one address sends
everything).

Goals (issue #18): p95 ≤ 50 ms for API listings, ≤ 100 ms for pages; the load test 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.hubserver import free_port, uvicorn_command, wait_until_healthy  # noqa: E402
from benchmarks.scale_seed import BASE_MODEL, FAMILIES, MODEL_KINDS, SIZES, TOPICS, VARIANTS, analyse, seed  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="hub_scale")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "var" / "scale")
    parser.add_argument("--repos", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per row")
    parser.add_argument(
        "--cache-url", default="", help="the hub's CACHE_URL (Redis, as in production); default: the file cache"
    )
    parser.add_argument("--via", choices=("server", "client"), default="server")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each listing's queries")
    parser.add_argument(
        "--baseline", type=Path, help="a checkout of older code: its server is timed too, request by request in turn"
    )
    parser.add_argument("--only", default="", help="measure only rows whose label contains this")
    parser.add_argument("--load", action="store_true", help="run the mixed load test instead of the table")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--pool", type=int, default=0, help="connections a web process may hold (DATABASE_URL ?pool=N); 0: no pool"
    )
    return parser.parse_args()


# ------------------------------------------------------------------------------------ database


def database_ensure(args: argparse.Namespace) -> str:
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
        if exists and args.reseed:
            connection.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
            exists = None
        if not exists:
            connection.execute(f'CREATE DATABASE "{args.database}"')
    return f"{args.server}/{args.database}"


def hub_environment(database_url: str, data_dir: Path, cache_url: str = "") -> dict[str, str]:
    """The environment of this process and of the servers it starts."""
    high = "100000000/hour"
    return {
        **({"CACHE_URL": cache_url} if cache_url else {}),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "HUB_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "HUB_PLAYGROUNDS": "false",
        "PYTHONPATH": str(REPO_ROOT),
        # One address sends every request of the benchmark.
        **{name: high for name in (
            "HUB_THROTTLE_HF_USER", "HUB_THROTTLE_HF_ANON", "HUB_THROTTLE_FILES_USER", "HUB_THROTTLE_FILES_ANON",
            "HUB_THROTTLE_LFS_USER", "HUB_THROTTLE_LFS_ANON", "API_THROTTLE_USER", "API_THROTTLE_IP",
        )},
    }  # fmt: skip


def django_setup(environment: dict[str, str]) -> None:
    os.environ.update(environment)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# ------------------------------------------------------------------------------------- measure


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def rows_to_measure() -> list[tuple[str, str, list[str]]]:
    """(group, label, URLs cycled through by the timed requests) of each row."""
    from registry.choices import RepoType
    from registry.models import Repo, RepoTag
    from registry.selectors.repos import RepoFilters, repo_cursor, repo_list, repo_ordering

    popular = Repo.objects.filter(type="model", private=False).order_by("-downloads").select_related("namespace")[0]
    base_namespace, base_name = BASE_MODEL.split("/")
    base = Repo.objects.select_related("namespace").get(namespace__name=base_namespace, name=base_name)
    dataset = Repo.objects.filter(type="dataset", private=False).order_by("-likes").select_related("namespace")[0]
    author = Repo.objects.filter(type="model").values("namespace__name").order_by("namespace__name")[:1][0]
    children = RepoTag.objects.filter(tag=f"base_model:{BASE_MODEL}").count()
    common = FAMILIES[:8]
    rare = [
        f"{family} {variant} {size}" for family, variant, size in zip(FAMILIES[:8], VARIANTS, SIZES * 2, strict=False)
    ]
    partial = [family[:3] for family in FAMILIES[:8]]
    # The cursor a client following next links holds after 20,000 rows of the trending order.
    trending = RepoFilters(repo_type=RepoType.MODEL)
    deep = repo_cursor(repo_list(user=None, filters=trending)[19_999], repo_ordering(trending))
    api = [
        ("api", "/api/models?limit=20 (trending)", ["/api/models?limit=20"]),
        ("api", "/api/models?limit=20&sort=downloads", ["/api/models?limit=20&sort=downloads&direction=-1"]),
        ("api", "/api/models?limit=20&sort=likes", ["/api/models?limit=20&sort=likes&direction=-1"]),
        ("api", "/api/models?limit=20&sort=lastModified", ["/api/models?limit=20&sort=lastModified&direction=-1"]),
        ("api", "/api/models?limit=20&search=<common word>", [f"/api/models?limit=20&search={w}" for w in common]),
        ("api", "/api/models?limit=20&search=<three words>", [f"/api/models?limit=20&search={w}" for w in rare]),
        ("api", "/api/models?limit=20&search=<3-letter prefix>", [f"/api/models?limit=20&search={w}" for w in partial]),
        ("api", "/api/models?limit=20&search=<word>&sort=downloads",
         [f"/api/models?limit=20&search={w}&sort=downloads" for w in common]),
        ("api", "/api/models?limit=20&filter=<tag>", [f"/api/models?limit=20&filter={w}" for w in common]),
        ("api", "/api/models?limit=20&pipeline_tag=…&library=…",
         [f"/api/models?limit=20&pipeline_tag={p}&library={lib}" for p, lib in MODEL_KINDS]),
        ("api", "/api/models?limit=20&filter=base_model:… (model tree)",
         [f"/api/models?limit=20&filter=base_model:{BASE_MODEL}"]),
        ("api", "/api/models?limit=20&author=<owner>", [f"/api/models?limit=20&author={author['namespace__name']}"]),
        ("api", "/api/models?limit=20&cursor=20000 (deep page, row offset)", ["/api/models?limit=20&cursor=20000"]),
        ("api", "/api/models?limit=20&cursor=<keyset> (deep page)", [f"/api/models?limit=20&cursor={deep}"]),
        ("api", "/api/models?limit=20&full=true", ["/api/models?limit=20&full=true"]),
        ("api", "/api/models?limit=100&cardData=true", ["/api/models?limit=100&cardData=true"]),
        ("api", "/api/models (no limit: 1,000 a page)", ["/api/models"]),
        ("api", "/api/datasets?limit=20", ["/api/datasets?limit=20"]),
        ("api", "/api/datasets?limit=20&search=<word>", [f"/api/datasets?limit=20&search={w}" for w in TOPICS[:8]]),
        ("api", "/api/v1/repos?type=model", ["/api/v1/repos?type=model"]),
        ("api", "/api/v1/repos?type=model&search=<word>", [f"/api/v1/repos?type=model&search={w}" for w in common]),
        ("api", "/api/v1/repos?type=model&page=100", ["/api/v1/repos?type=model&page=100"]),
        ("api", f"/api/models/<id> (info; {children} children)", [f"/api/models/{base.repo_id}"]),
    ]  # fmt: skip
    pages = [
        ("page", "/models", ["/models"]),
        ("page", "/models?search=<word>", [f"/models?search={w}" for w in common]),
        ("page", "/models?pipeline_tag=…", [f"/models?pipeline_tag={p}" for p, _lib in MODEL_KINDS]),
        ("page", "/models?sort=downloads&p=100", ["/models?sort=downloads&p=100"]),
        ("page", "/datasets", ["/datasets"]),
        ("page", "/search?q=<word>", [f"/search?q={w}" for w in common]),
        ("page", "/search?q=<two words>", [f"/search?q={a}+{b}" for a, b in zip(common, VARIANTS, strict=False)]),
        ("page", "/search/suggest?q=<prefix>", [f"/search/suggest?q={w}" for w in partial]),
        ("page", "repo page, most downloaded model", [f"/{popular.repo_id}"]),
        ("page", f"repo page, base model ({children} children)", [f"/{base.repo_id}"]),
        ("page", "repo page, dataset", [f"/datasets/{dataset.repo_id}"]),
    ]
    return api + pages


def query_counts(rows) -> dict[str, tuple[int, int]]:
    """(status, queries) of each row's first URL, in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = {}
    for _group, label, urls in rows:
        client.get(urls[0])  # warm caches the way a running server has them
        with CaptureQueriesContext(connection) as captured:
            response = client.get(urls[0])
        counts[label] = (response.status_code, len(captured.captured_queries))
    return counts


def explain(rows) -> None:
    """EXPLAIN ANALYZE of every query each row's first URL runs that takes over 5 ms."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for _group, label, urls in rows:
        client.get(urls[0])
        with CaptureQueriesContext(connection) as captured:
            client.get(urls[0])
        for query in captured.captured_queries:
            if float(query["time"]) * 1000 < 5:
                continue
            print(f"\n=== {label}: {float(query['time']) * 1000:.1f} ms\n{query['sql'][:2000]}")
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print("\n".join(row[0] for row in cursor.fetchall()))


@contextlib.contextmanager
def uvicorn(environment: dict[str, str], workers: int = 1, root: Path = REPO_ROOT):
    """A server of the checkout at ``root`` (this one, or ``--baseline``'s) on a free port."""
    port = free_port()
    command = uvicorn_command(port, workers=workers)  # as `make serve` runs it
    process = subprocess.Popen(command, env={**os.environ, **environment, "PYTHONPATH": str(root)}, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, seconds=120)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def _getter(url: str | None):
    """A function that GETs a path from the server at ``url`` (or in-process) and gives the status."""
    import httpx
    from django.test import Client

    if url is None:
        client = Client()
        return lambda path: client.get(path).status_code
    session = httpx.Client(base_url=url, timeout=60)
    return lambda path: session.get(path).status_code


def time_rows(rows, *, requests: int, url: str | None, baseline: str | None = None):
    """Latencies in ms of ``requests`` requests per row, after two warm-up requests: of the server
    at ``url`` and, with ``baseline``, of that server too, request by request in turn (so both see
    the same load). A baseline row that does not answer 200 (a URL it does not know) is None."""
    servers = {"new": _getter(url)}
    if baseline is not None:
        servers["baseline"] = _getter(baseline)
    timings: dict[str, dict[str, list[float] | None]] = {name: {} for name in servers}
    for _group, label, urls in rows:
        live = dict(servers)
        for name, get in servers.items():
            timings[name][label] = []
            statuses = [get(path) for path in urls[:2]]
            if name == "baseline" and set(statuses) != {200}:
                timings[name][label] = None
                del live[name]
        for index in range(requests):
            path = urls[index % len(urls)]
            for name in sorted(live, reverse=index % 2 == 1):
                started = time.perf_counter()
                status = live[name](path)
                timings[name][label].append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status} ({name})")
        samples = timings["new"][label]
        print(f"{label}: p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms", flush=True)
    return timings


def _cell(samples: list[float] | None) -> str:
    if samples is None:
        return "– | –"
    return f"{statistics.median(samples):.1f} | {percentile(samples, 0.95):.1f}"


def measure(args: argparse.Namespace, environment: dict[str, str]) -> None:
    rows = [row for row in rows_to_measure() if args.only in row[1]]
    if args.explain:
        explain(rows)
        return
    counts = query_counts(rows)
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(uvicorn(environment)) if args.via == "server" else None
        baseline = stack.enter_context(uvicorn(environment, root=args.baseline.resolve())) if args.baseline else None
        timings = time_rows(rows, requests=args.requests, url=url, baseline=baseline)
    load_after = os.getloadavg()
    print(f"\nvia {args.via}; {args.requests} requests a row; load average before {load_before[0]:.2f}, after "
          f"{load_after[0]:.2f} (1 min)\n")  # fmt: skip
    before = "baseline p50 ms | baseline p95 ms | " if args.baseline else ""
    print(f"| request | {before}p50 ms | p95 ms | queries | goal |")
    print("|---|---|---|---|---|" + ("---|---|" if args.baseline else ""))
    for group, label, _urls in rows:
        samples = timings["new"][label]
        goal = 50 if group == "api" else 100
        p95 = percentile(samples, 0.95)
        mark = "✓" if p95 <= goal else "✗"
        old = f"{_cell(timings['baseline'][label])} | " if args.baseline else ""
        print(f"| `{label}` | {old}{_cell(samples)} | {counts[label][1]} | ≤ {goal} {mark} |")


# ---------------------------------------------------------------------------------- load test


def load_fixture(clients: int) -> tuple[str, list[str], list[str], list[str]]:
    """bench's write token, one upload repository per client, and repositories to read."""
    from hub.models import User
    from hub.services.tokens import token_create
    from registry.choices import RepoType
    from registry.models import Repo
    from registry.services.repos import repo_create

    bench = User.objects.get(username="bench")
    _token, secret = token_create(user=bench, name=f"load-{int(time.time())}", role="write")
    uploads = []
    for index in range(clients):
        name = f"load-upload-{index}"
        repo = Repo.objects.filter(namespace=bench.namespace, type="model", name=name).first()
        if repo is None:
            repo = repo_create(user=bench, namespace=bench.namespace, name=name, repo_type=RepoType.MODEL)
        uploads.append(repo.repo_id)
    public = (
        Repo.objects.filter(private=False, type="model", disabled=False, gated="")
        .exclude(name__startswith="load-upload-")
        .select_related("namespace")
    )
    reads = [repo.repo_id for repo in public.order_by("-downloads")[:200]]
    reads += [repo.repo_id for repo in public.order_by("?")[:300]]
    return secret, uploads, reads, [family for family in FAMILIES]


# The mixed load: (kind, share of requests); paths take the drawn repository, word, sort and page.
LOAD_MIX = [
    ("browse: /api/models", 0.15), ("browse: /models page", 0.10), ("browse: repo page", 0.10),
    ("search: /api/models", 0.15), ("search: /search page", 0.05), ("resolve: GET README.md", 0.20),
    ("HEAD config.json", 0.20), ("upload: commit of 1 KiB", 0.05),
]  # fmt: skip
LOAD_KINDS = [kind for kind, _share in LOAD_MIX]
LOAD_WEIGHTS = list(itertools.accumulate(share for _kind, share in LOAD_MIX))
LOAD_PATHS = {
    "browse: /api/models": "/api/models?limit=20&sort={sort}",
    "browse: /models page": "/models?p={page}",
    "browse: repo page": "/{repo}",
    "search: /api/models": "/api/models?limit=20&search={word}",
    "search: /search page": "/search?q={word}",
    "resolve: GET README.md": "/{repo}/resolve/main/README.md",
    "HEAD config.json": "/{repo}/resolve/main/config.json",
}


async def _client(index, session, deadline, token, upload_repo, reads, words, records, rng):
    import httpx

    while time.monotonic() < deadline:
        kind = rng.choices(LOAD_KINDS, cum_weights=LOAD_WEIGHTS)[0]
        repo, word = rng.choice(reads), rng.choice(words)
        method, headers, body = "GET", {}, None
        if kind == "upload: commit of 1 KiB":
            method, path = "POST", f"/api/models/{upload_repo}/commit/main"
            content = base64.b64encode(os.urandom(1024)).decode()
            upload = {"path": f"data/{rng.randint(0, 9)}.bin", "content": content, "encoding": "base64"}
            lines = [
                {"key": "header", "value": {"summary": f"client {index} upload"}},
                {"key": "file", "value": upload},
            ]
            body = "\n".join(json.dumps(line) for line in lines).encode()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        else:
            sort = rng.choice(["downloads", "likes", "lastModified", "trendingScore"])
            path = LOAD_PATHS[kind].format(repo=repo, word=word, sort=sort, page=rng.randint(1, 20))
            method = "HEAD" if kind.startswith("HEAD") else "GET"
        started = time.perf_counter()
        try:
            response = await session.request(method, path, content=body, headers=headers)
            await response.aread()
            status = response.status_code
        except httpx.HTTPError as error:
            status = f"{type(error).__name__}"
        records.append((kind, status, (time.perf_counter() - started) * 1000))


async def _load(url, clients, duration, token, uploads, reads, words):
    import httpx

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    records: list = []
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as session:
        deadline = time.monotonic() + duration
        await asyncio.gather(
            *[
                _client(i, session, deadline, token, uploads[i], reads, words, records, random.Random(i))
                for i in range(clients)
            ]
        )
    return records


def load_test(args: argparse.Namespace, environment: dict[str, str]) -> None:
    import psutil

    token, uploads, reads, words = load_fixture(args.clients)
    with uvicorn(environment, workers=args.workers) as url:
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        started = time.perf_counter()
        records = asyncio.run(_load(url, args.clients, args.duration, token, uploads, reads, words))
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_before
        load_after = os.getloadavg()
    ok = {"HEAD config.json": {200}, "upload: commit of 1 KiB": {200}}
    errors = [r for r in records if r[1] not in ok.get(r[0], {200})]
    print(
        f"\n{args.clients} clients, {args.duration:.0f} s, {args.workers} uvicorn workers; {len(records)} requests "
        f"in {elapsed:.1f} s = {len(records) / elapsed:.0f} req/s; errors {len(errors)}; client CPU "
        f"{client_cpu:.1f} s; load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; "
        f"{psutil.cpu_count()} CPUs\n"
    )
    if errors:
        statuses = {}
        for kind, status, _ms in errors:
            statuses[(kind, status)] = statuses.get((kind, status), 0) + 1
        print("errors:", statuses)
    print("| request | count | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|")
    kinds = sorted({r[0] for r in records})
    for kind in [*kinds, "all"]:
        chosen = [r for r in records if kind in ("all", r[0])]
        times = [r[2] for r in chosen]
        failed = sum(1 for r in chosen if r in errors)
        print(
            f"| {kind} | {len(chosen)} | {statistics.median(times):.0f} | {percentile(times, 0.95):.0f} | "
            f"{percentile(times, 0.99):.0f} | {failed} |"
        )


def main() -> None:
    args = parse_args()
    database_url = database_ensure(args)
    environment = hub_environment(
        f"{database_url}?pool={args.pool}" if args.pool else database_url, args.data_dir.resolve(), args.cache_url
    )
    django_setup(environment)
    from registry.models import Repo

    present = Repo.objects.count()
    if present == 0:
        seed(args)
        analyse()
    elif present < args.repos:
        raise SystemExit(f"{args.database} holds {present} repositories, fewer than --repos: run with --reseed")
    print(f"{Repo.objects.count()} repositories in {args.database}", flush=True)
    if args.load:
        load_test(args, environment)
    else:
        measure(args, environment)


if __name__ == "__main__":
    main()
