"""Seeding the scale benchmark's database (``benchmarks/scale.py`` runs it): 1,000 users and 100
organizations, a few dozen template repositories committed through the hub's own services (README
cards with metadata, a config file), then 100,000 repositories in bulk with PostgreSQL's COPY —
models, datasets and tutorials owned by a skewed mix of users and organizations, each with the card,
tags, head commit and ref of one template, downloads, likes (rows as well as counters) and a
download day; then ``VACUUM ANALYZE`` (as autovacuum would).

Django must be set up (``benchmarks.scale.django_setup``) before ``seed`` runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta

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
