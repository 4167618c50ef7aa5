"""Leaderboard page speed on PostgreSQL: a board of 1,000 ranked entries.

Creates a scratch PostgreSQL database, a board, 1,000 model repositories with a finished, ranked
entry each (rows as the scoring service leaves them) and 1,000 queue rows, analyses it (as
autovacuum soon would), then times the board page (first page of 100 rows, sorted by a column,
filtered), its JSON and CSV exports with Django's test client, counting queries. The same page on
a board of 10 entries is measured in the same run: the query count must not grow with the board,
and the time should not grow much. The page keeps its rendered rows in the cache until the board
changes, and the exports too; "after a change" rows time them with the board changed before every
request.

    python benchmarks/leaderboard.py                      # postgres://postgres@127.0.0.1:5432
    python benchmarks/leaderboard.py --requests 300 --entries 1000
    python benchmarks/leaderboard.py --profile            # where the 1,000-entry page's time goes
    python benchmarks/leaderboard.py --database h_mine    # another scratch database's name

Target: board page p95 ≤ 50 ms at 1,000 entries, with the same query count as at 10.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="hub_bench_leaderboard", help="scratch database (dropped first)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing, profile the 1,000-entry board page (cProfile; cached, and after a change)",
    )
    return parser.parse_args()


def scratch_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


def setup(database_url: str, data_dir: Path) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        HUB_DATA_DIR=str(data_dir),
        LOG_LEVEL="WARNING",
        HUB_PLAYGROUNDS="false",
    )
    sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(entries: int, suffix: str):
    """A board of ``entries`` finished, ranked entries (and as many queue rows)."""
    from evals.leaderboards.choices import EntryState
    from evals.leaderboards.models import Entry, Leaderboard
    from hub.services.accounts import user_create
    from hub.services.organizations import organization_create
    from registry.choices import RepoType
    from registry.models import Repo

    user = user_create(username=f"owner{suffix}", email=f"o{suffix}@example.org", password="bench-password-1")
    org = organization_create(creator=user, name=f"bench{suffix}")
    board = Leaderboard.objects.create(
        namespace=org.namespace,
        name="board",
        title="Bench",
        suite="bigbench_mc",
        suite_hash="0" * 64,
        columns=[{"task": "*", "metric": "acc", "higher_is_better": True}]
        + [{"task": f"bigbench_t{i}", "metric": "acc", "higher_is_better": True} for i in range(12)],
        chance={"*:acc": 0.4},
    )
    repos = Repo.objects.bulk_create(
        [
            Repo(
                namespace=user.namespace,
                name=f"model-{suffix}-{i}",
                type=RepoType.MODEL,
                created_by=user,
                license="apache-2.0",
            )
            for i in range(entries)
        ]
    )
    rows = []
    for i, repo in enumerate(repos):
        value = 0.9 - i * 0.5 / max(entries, 1)
        cell = {"value": value, "ci95": [value - 0.02, value + 0.02], "n": 4000, "normalized": (value - 0.4) / 0.6}
        scores = {"*:acc": cell, **{f"bigbench_t{t}:acc": cell for t in range(12)}}
        common = dict(
            board=board,
            model_repo=repo,
            model_repo_name=f"{user.username}/{repo.name}",
            model_revision="main",
            model_commit=f"{i:040x}",
            submitter=user,
        )
        rows.append(
            Entry(
                **common,
                state=EntryState.FINISHED,
                current=True,
                scores=scores,
                primary=value,
                rank=i // 3 + 1,
                rank_low=max(1, i // 3 - 2),
                rank_high=i // 3 + 3,
                parameters=1_000_000 + i,
                license="apache-2.0",
                architecture="llama",
            )
        )
        rows.append(Entry(**common, state=EntryState.REJECTED, reason="The model card does not declare a license."))
    Entry.objects.bulk_create(rows, batch_size=1000)
    return board


def measure(client, url: str, requests: int, before=lambda: None) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds, and the queries of one more request; ``before`` runs untimed
    before each request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm
    times = []
    for _ in range(requests):
        before()
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    before()
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], len(queries)


def profile(client, url: str, before=lambda: None, requests: int = 30) -> None:
    import cProfile
    import pstats

    client.get(url)
    profiler = cProfile.Profile()
    for _ in range(requests):
        before()
        profiler.enable()
        client.get(url)
        profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"leaderboards|templates|jinja|psycopg.*execute", 25)


def main() -> None:
    import tempfile

    args = parse_args()
    database_url = scratch_database(args.server, args.database)
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as scratch:
        setup(database_url, Path(scratch))
        from django.db import connection
        from django.test import Client

        from evals.leaderboards.services.boards import board_touch

        small = populate(10, "s")
        large = populate(args.entries, "l")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        client = Client()
        if args.profile:
            print(f"cProfile, 30 requests of the board page at {args.entries} entries, rows cached:")
            profile(client, large.web_path)
            print("... and after a change (rows rendered again):")
            profile(client, large.web_path, before=lambda: board_touch(board_id=large.pk))
        else:
            print(f"PostgreSQL, {args.requests} requests each; board page = first 100 rows of the ranked board")
            print(f"load average at the start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
            print("| request | entries | p50 ms | p95 ms | queries |")
            print("|---|---|---|---|---|")
            for label, path, changed in (
                ("board page", "", False),
                ("board page sorted by a column", "?sort=bigbench_t3:acc", False),
                ("board page filtered by size", "?max_parameters=1000500", False),
                ("board page after a change", "", True),
            ):
                for board, entries in ((small, 10), (large, args.entries)):
                    touch = (lambda pk=board.pk: board_touch(board_id=pk)) if changed else (lambda: None)
                    p50, p95, queries = measure(client, f"{board.web_path}{path}", args.requests, before=touch)
                    print(f"| {label} | {entries} | {p50:.1f} | {p95:.1f} | {queries} |", flush=True)
            touch = lambda: board_touch(board_id=large.pk)  # noqa: E731
            for label, suffix, before in (
                ("JSON export (every entry)", ".json", lambda: None),
                ("JSON export after a change", ".json", touch),
                ("CSV export", ".csv", lambda: None),
                ("CSV export after a change", ".csv", touch),
            ):
                p50, p95, queries = measure(client, f"{large.web_path}{suffix}", 20, before=before)
                print(f"| {label} | {args.entries} | {p50:.1f} | {p95:.1f} | {queries} |", flush=True)
            print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    from django.db import connections

    connections.close_all()  # the scratch database can only be dropped once nobody uses it
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {args.database}")
    print("target: board page p95 <= 50 ms at 1,000 entries, with the same queries as at 10")


if __name__ == "__main__":
    main()
