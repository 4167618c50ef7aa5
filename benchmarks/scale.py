"""Listings, search and pages at 100,000 repositories on PostgreSQL, and a mixed load test.

Seeds its own PostgreSQL database (``hub_scale`` by default; created and migrated here, kept
between runs so the seed is paid once): 1,000 users and 100 organizations, a few dozen template
repositories committed through the hub's own services (README cards with metadata, a config
file), then 100,000 repositories in bulk with PostgreSQL's COPY — models, datasets and
tutorials owned by a skewed mix of users and organizations, each with the card, tags, head
commit and ref of one template, downloads, likes (rows as well as counters) and a download day.
Then it analyses the tables (as autovacuum would) and measures each listing, search and page
request: query counts in-process (Django's test client under ``CaptureQueriesContext``), latency
through a real server (uvicorn on ``config.asgi``, one process; ``--via client`` times the test
client instead).

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
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.hubserver import free_port, wait_until_healthy  # noqa: E402

# How the seed draws names; words a search finds often, sometimes, and rarely.
FAMILIES = [
    "llama", "mistral", "qwen", "gemma", "phi", "bert", "roberta", "deberta", "t5", "bart", "gpt2", "falcon",
    "whisper", "wav2vec2", "vit", "clip", "resnet", "electra", "distilbert", "mpt", "bloom", "opt", "pythia",
    "olmo", "mamba", "stablelm", "xlm", "marian", "pegasus", "longformer",
]  # fmt: skip
VARIANTS = [
    "chat", "instruct", "base", "finetuned", "sentiment", "squad", "ner", "summarizer", "translator", "code",
    "math", "medical", "legal", "tiny", "small", "large", "quantized", "merged", "lora", "distilled",
]  # fmt: skip
TOPICS = [
    "wiki", "news", "code", "math", "reviews", "dialogue", "qa", "speech", "images", "poems", "recipes",
    "legal", "medical", "tweets", "papers", "books", "captions", "translations", "emails", "forums",
]  # fmt: skip
SIZES = ["125m", "350m", "1b", "3b", "7b", "13b", "70b"]
LICENSES = ["apache-2.0", "mit", "cc-by-4.0", "openrail", "llama2", "gpl-3.0"]
# (pipeline tag, library) pairs of the model templates.
MODEL_KINDS = [
    ("text-generation", "transformers"), ("text-classification", "transformers"),
    ("token-classification", "transformers"), ("fill-mask", "transformers"), ("translation", "transformers"),
    ("summarization", "transformers"), ("automatic-speech-recognition", "transformers"),
    ("image-classification", "timm"), ("feature-extraction", "sentence-transformers"),
    ("text-generation", "peft"), ("text-generation", "gguf"), ("question-answering", "transformers"),
]  # fmt: skip
LANGUAGES = [["en"], ["en", "fr"], ["de"], ["zh", "en"], ["es"], ["ja"], ["multilingual"]]
# The repository the base-model templates name, so the model tree has children at scale.
BASE_MODEL = "scale-org0/llama-7b-base"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="hub_scale")
    parser.add_argument("--data-dir", type=Path, default=REPO_ROOT / "var" / "scale")
    parser.add_argument("--repos", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed it again")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per row")
    parser.add_argument("--via", choices=("server", "client"), default="server")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each listing's queries")
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


def hub_environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of this process and of the servers it starts."""
    high = "100000000/hour"
    return {
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


# ---------------------------------------------------------------------------------------- seed


def _copy(table: str, columns: list[str], rows) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    from django.db import connection

    count = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def _next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def _sequence_reset(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )


def _card(index: int, repo_type: str) -> str:
    """The README of template ``index``: front matter with the metadata a listing filters on."""
    rng = random.Random(index)
    if repo_type == "model":
        pipeline, library = MODEL_KINDS[index % len(MODEL_KINDS)]
        family = FAMILIES[index % len(FAMILIES)]
        meta = {
            "license": LICENSES[index % len(LICENSES)],
            "library_name": library,
            "pipeline_tag": pipeline,
            "language": LANGUAGES[index % len(LANGUAGES)],
            "tags": [family, rng.choice(VARIANTS), "benchmark"],
            "datasets": [f"scale-org1/{rng.choice(TOPICS)}-corpus"],
        }
        if index % 3 == 0:
            meta["base_model"] = BASE_MODEL
        title = f"{family.title()} {rng.choice(VARIANTS)} model"
        body = (
            f"A {family} model for {pipeline.replace('-', ' ')}, trained with {library} on "
            f"{rng.choice(TOPICS)} and {rng.choice(TOPICS)} data.\n\n## Usage\n\nLoad it with `{library}` "
            "and run it on your own text.\n\n## Training\n\nTrained for three epochs with AdamW."
        )
    elif repo_type == "dataset":
        topic = TOPICS[index % len(TOPICS)]
        meta = {
            "license": LICENSES[index % len(LICENSES)],
            "language": LANGUAGES[index % len(LANGUAGES)],
            "task_categories": [MODEL_KINDS[index % len(MODEL_KINDS)][0]],
            "tags": [topic, "benchmark"],
            "pretty_name": f"{topic.title()} corpus",
        }
        title = f"{topic.title()} corpus"
        body = f"A corpus of {topic} collected for the benchmark.\n\n## Fields\n\n`text`, `label`."
    else:
        meta = {"license": "cc-by-4.0", "tags": ["tutorial", FAMILIES[index % len(FAMILIES)]]}
        title = f"Fine-tuning {FAMILIES[index % len(FAMILIES)]} step by step"
        body = "How to fine-tune a model on your own data.\n\n## Setup\n\nInstall the libraries."
    front = json.dumps(meta)  # JSON is YAML
    return f"---\n{front}\n---\n\n# {title}\n\n{body}\n"


def _templates(owner, repo_type: str, count: int) -> list[dict]:
    """``count`` repositories of ``repo_type`` committed through the services, their history
    squashed to one root commit (so bulk repositories can share its id, as forks do)."""
    from registry.choices import RepoType
    from registry.models import GitCommit, Ref, Repo, RepoBlob, RepoTag
    from registry.services.commits import AddFile, commit_create, history_squash
    from registry.services.repos import repo_create
    from registry.storage import stage_bytes

    templates = []
    for index in range(count):
        name = f"template-{repo_type}-{index}"
        repo = Repo.objects.filter(namespace=owner.namespace, type=repo_type, name=name).first()
        if repo is None:
            repo = repo_create(user=owner, namespace=owner.namespace, name=name, repo_type=RepoType(repo_type))
            files = {"README.md": _card(index, repo_type).encode()}
            if repo_type == "model":
                files["config.json"] = json.dumps({"model_type": "llama", "hidden_size": 64 + index}).encode()
            else:
                files["data/train.csv"] = "text,label\n" + "".join(f"row {i},{i % 2}\n" for i in range(50))
                files["data/train.csv"] = files["data/train.csv"].encode()
            operations = [AddFile(path=path, staged=stage_bytes(data)) for path, data in files.items()]
            commit_create(repo=repo, user=owner, ref="refs/heads/main", operations=operations, summary="Add card")
            history_squash(repo=repo, user=owner, revision="main", message="Initial commit")
            repo.refresh_from_db()
        head = Ref.objects.get(repo=repo, name="refs/heads/main").target_oid
        commit = GitCommit.objects.get(repo=repo, oid=head)
        templates.append(
            {
                "repo": repo,
                "commit": commit,
                "tags": list(RepoTag.objects.filter(repo=repo).order_by("id").values_list("tag", flat=True)),
                "blobs": list(RepoBlob.objects.filter(repo=repo).values_list("blob_id", flat=True)),
                "text": repo.search_document.split("\n", 2)[2] if repo.search_document.count("\n") >= 2 else "",
            }
        )
    return templates


def seed(args: argparse.Namespace) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from hub.models import Membership, Namespace, Organization, User
    from hub.services.accounts import user_create
    from registry.models import Repo

    started = time.perf_counter()
    rng = random.Random(18)
    now = datetime.now(UTC)
    # People: users through the service for the few the benchmark logs in as, in bulk for the rest.
    bench = User.objects.filter(username="bench").first() or user_create(
        username="bench", email="bench@example.org", password="bench-password-123"
    )
    password = make_password("scale-password-1")
    with transaction.atomic():
        namespaces = Namespace.objects.bulk_create(
            [Namespace(name=f"user{i:04d}", kind="user") for i in range(args.users)]
            + [Namespace(name=f"scale-org{i}", kind="org") for i in range(100)]
        )
        users = User.objects.bulk_create(
            [
                User(username=ns.name, email=f"{ns.name}@example.org", password=password, namespace=ns,
                     fullname=f"User {ns.name[4:]}", date_joined=now - timedelta(days=rng.randint(0, 1000)))
                for ns in namespaces[: args.users]
            ]
        )  # fmt: skip
        orgs = Organization.objects.bulk_create(
            [
                Organization(namespace=ns, fullname=f"Org {ns.name}", created_by=users[0])
                for ns in namespaces[args.users :]
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(organization=org, user=user, role=rng.choice(["admin", "write", "read"]))
                for org in orgs
                for user in rng.sample(users, 5)
            ]
            + [Membership(organization=org, user=bench, role="admin") for org in orgs[:2]]
        )  # fmt: skip
    # Templates: real commits through the services, owned by bench inside the first organization.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    templates = {
        "model": _templates(bench, "model", 36),
        "dataset": _templates(bench, "dataset", 12),
        "tutorial": _templates(bench, "tutorial", 3),
    }
    print(f"seed: people and templates in {time.perf_counter() - started:.1f} s", flush=True)

    # Owners: a few big organizations and users own many repositories, most own a handful.
    owners = namespaces
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(owners))]
    rng.shuffle(weights)
    cumulative = list(itertools.accumulate(weights))
    base_owner = next(ns for ns in namespaces if ns.name == BASE_MODEL.split("/")[0])
    repo_id = _next_id("registry_repo")
    repo_rows, tag_rows, commit_rows, ref_rows, blob_rows, meta = [], [], [], [], [], []
    used: set[tuple[int, str, str]] = set()
    for index in range(args.repos):
        draw = rng.random()
        repo_type = "model" if index == 0 or draw < 0.7 else "dataset" if draw < 0.95 else "tutorial"
        owner = base_owner if index == 0 else rng.choices(owners, cum_weights=cumulative)[0]
        if index == 0:
            name = BASE_MODEL.split("/")[1]
        elif repo_type == "model":
            name = f"{rng.choice(FAMILIES)}-{rng.choice(SIZES)}-{rng.choice(VARIANTS)}"
        elif repo_type == "dataset":
            name = f"{rng.choice(TOPICS)}-{rng.choice(TOPICS)}-{rng.choice(['v1', 'v2', 'clean', 'raw', 'mini'])}"
        else:
            name = f"how-to-{rng.choice(VARIANTS)}-{rng.choice(FAMILIES)}"
        while (owner.pk, repo_type, name.lower()) in used:
            name = f"{name}-{rng.randint(0, 99999)}"
        used.add((owner.pk, repo_type, name.lower()))
        template = rng.choice(templates[repo_type])
        source: Repo = template["repo"]
        created = now - timedelta(minutes=rng.randint(60, 3 * 365 * 24 * 60))
        modified = created + (now - created) * rng.random()
        downloads = int(rng.paretovariate(1.1) * 10) - 10
        likes = min(int(rng.paretovariate(1.3)) - 1, args.users)
        private = index > 0 and rng.random() < 0.05
        gated = "" if private or rng.random() > 0.03 else rng.choice(["auto", "manual"])
        trending = likes * 2 + downloads / 100 + rng.random()
        document = "\n".join([owner.name, name, " ".join(template["tags"]), template["text"]])
        repo_rows.append((
            repo_id, owner.pk, name, repo_type, private, gated, False, None, "", None, "main", bench.pk, created,
            modified, downloads, downloads * 3, likes, trending, 0, json.dumps(source.card_data), source.description,
            source.license, source.pipeline_tag, source.library_name, document,
        ))  # fmt: skip
        tag_rows.extend((repo_id, tag) for tag in template["tags"])
        commit = template["commit"]
        commit_rows.append((
            repo_id, commit.oid, commit.tree_oid, json.dumps(commit.parents), commit.generation, commit.title,
            commit.message, bench.pk, commit.author_name, commit.author_email, commit.authored_at,
        ))  # fmt: skip
        ref_rows.append((repo_id, "refs/heads/main", commit.oid, modified))
        blob_rows.extend((repo_id, blob, created) for blob in template["blobs"])
        meta.append((repo_id, likes, downloads))
        repo_id += 1
    columns = [
        "id", "namespace_id", "name", "type", "private", "gated", "disabled", "disabled_at", "disabled_reason",
        "disabled_action", "default_branch", "created_by_id", "created_at", "last_modified", "downloads",
        "downloads_all_time", "likes", "trending_score", "used_storage", "card_data", "description", "license",
        "pipeline_tag", "library_name", "search_document",
    ]  # fmt: skip
    with transaction.atomic():
        _copy("registry_repo", columns, repo_rows)
        _copy("registry_repotag", ["repo_id", "tag"], tag_rows)
        _copy(
            "registry_gitcommit",
            ["repo_id", "oid", "tree_oid", "parents", "generation", "title", "message", "author_id", "author_name",
             "author_email", "authored_at"],
            commit_rows,
        )  # fmt: skip
        _copy("registry_ref", ["repo_id", "name", "target_oid", "updated_at"], ref_rows)
        _copy("registry_repoblob", ["repo_id", "blob_id", "created_at"], blob_rows)
        user_ids = [user.pk for user in users]
        like_rows = []
        for repo, likes, _downloads in meta:
            like_rows.extend((user, repo, now) for user in rng.sample(user_ids, likes))
        _copy("registry_like", ["user_id", "repo_id", "created_at"], like_rows)
        today = now.date()
        _copy(
            "registry_downloadday",
            ["repo_id", "day", "count"],
            ((repo, today - timedelta(days=rng.randint(0, 29)), downloads) for repo, _likes, downloads in meta),
        )
        _sequence_reset("registry_repo")
    print(
        f"seed: {len(repo_rows)} repositories, {len(tag_rows)} tags, {len(like_rows)} likes in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# ------------------------------------------------------------------------------------- measure


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def rows_to_measure() -> list[tuple[str, str, list[str]]]:
    """(group, label, URLs cycled through by the timed requests) of each row."""
    from registry.models import Repo, RepoTag

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
        ("api", "/api/models?limit=20&cursor=20000 (deep page)", ["/api/models?limit=20&cursor=20000"]),
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
def uvicorn(environment: dict[str, str], workers: int = 1):

    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    if workers > 1:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env={**os.environ, **environment}, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, seconds=120)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)


def time_rows(rows, *, requests: int, url: str | None) -> dict[str, list[float]]:
    """Latencies in ms of ``requests`` requests per row, after two warm-up requests."""
    import httpx
    from django.test import Client

    timings: dict[str, list[float]] = {}
    if url is not None:
        session = httpx.Client(base_url=url, timeout=60)

        def get(path: str) -> int:
            return session.get(path).status_code
    else:
        client = Client()

        def get(path: str) -> int:
            return client.get(path).status_code

    for _group, label, urls in rows:
        for path in urls[:2]:
            get(path)
        samples = []
        for index in range(requests):
            path = urls[index % len(urls)]
            started = time.perf_counter()
            status = get(path)
            samples.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        timings[label] = samples
        print(f"{label}: p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms", flush=True)
    return timings


def measure(args: argparse.Namespace, environment: dict[str, str]) -> None:
    rows = [row for row in rows_to_measure() if args.only in row[1]]
    if args.explain:
        explain(rows)
        return
    counts = query_counts(rows)
    load_before = os.getloadavg()
    if args.via == "server":
        with uvicorn(environment) as url:
            timings = time_rows(rows, requests=args.requests, url=url)
    else:
        timings = time_rows(rows, requests=args.requests, url=None)
    load_after = os.getloadavg()
    print(f"\nvia {args.via}; {args.requests} requests a row; load average before {load_before[0]:.2f}, after "
          f"{load_after[0]:.2f} (1 min)\n")  # fmt: skip
    print("| request | p50 ms | p95 ms | queries | goal |")
    print("|---|---|---|---|---|")
    for group, label, _urls in rows:
        samples = timings[label]
        goal = 50 if group == "api" else 100
        p95 = percentile(samples, 0.95)
        mark = "✓" if p95 <= goal else "✗"
        print(f"| `{label}` | {statistics.median(samples):.1f} | {p95:.1f} | {counts[label][1]} | ≤ {goal} {mark} |")


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
        f"{database_url}?pool={args.pool}" if args.pool else database_url, args.data_dir.resolve()
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
