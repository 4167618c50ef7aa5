"""Demo repositories: datasets from the offline data kit, models trained by the training core,
a tutorial, and a pull request with a review discussion. Each step is skipped when its repository
already exists."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings

from hub.choices import DiscussionStatus
from hub.models import Discussion, Namespace
from hub.services.discussions import (
    comment_add,
    discussion_change_status,
    discussion_create,
    pull_request_commit,
    pull_request_merge,
)
from registry.choices import RepoType
from registry.models import Repo
from registry.selectors.pages import file_read
from registry.selectors.revisions import revision_resolve
from registry.services.commits import AddFile, commit_create
from registry.services.counters import like_add
from registry.services.repos import repo_create
from registry.storage import stage_bytes, stage_file
from registry.trees import tree_lookup

CONTENT = Path(__file__).resolve().parent


def _repo(owner: str, name: str, repo_type: RepoType, user) -> tuple[Repo, bool]:
    """The demo repository ``owner/name``, and whether it was just created."""
    namespace = Namespace.objects.get(name=owner)
    existing = Repo.objects.filter(namespace=namespace, name=name, type=repo_type).first()
    if existing is not None:
        return existing, False
    return repo_create(user=user, namespace=namespace, name=name, repo_type=repo_type), True


def _commit_files(repo: Repo, user, files: dict[str, Path | bytes], summary: str) -> None:
    operations = []
    try:
        for path, source in files.items():
            staged = stage_bytes(source) if isinstance(source, bytes) else stage_file(source)
            operations.append(AddFile(path=path, staged=staged))
        commit_create(
            repo=repo, user=user, ref=f"refs/heads/{repo.default_branch}", operations=operations, summary=summary
        )
    finally:
        for op in operations:
            op.staged.discard()


def seed_datasets(users, *, data: Path, log) -> None:
    repo, created = _repo("eval-guild", "wiki-mini", RepoType.DATASET, users["bob"])
    if created:
        files = {name: data / "wiki" / name for name in ("train.txt", "valid.txt", "test.txt")}
        files["README.md"] = (CONTENT / "datasets" / "wiki-mini.md").read_bytes()
        files["LICENSE-ATTRIBUTION.txt"] = data / "LICENSES" / "wikipedia-CC-BY-SA.txt"
        _commit_files(repo, users["bob"], files, "Add the Wikipedia corpus")
        log("demo dataset: eval-guild/wiki-mini")
    repo, created = _repo("eval-guild", "bigbench-mc", RepoType.DATASET, users["bob"])
    if created:
        files = {path.name: path for path in sorted((data / "bigbench").iterdir()) if path.is_file()}
        files["README.md"] = (CONTENT / "datasets" / "bigbench-mc.md").read_bytes()
        files["LICENSE"] = data / "LICENSES" / "bigbench-Apache-2.0.txt"
        files["NOTICE"] = data / "LICENSES" / "bigbench-NOTICE.txt"
        _commit_files(repo, users["bob"], files, "Add twelve BIG-bench multiple-choice tasks")
        log("demo dataset: eval-guild/bigbench-mc")


# Small enough to train in well under a minute on two CPU cores, large enough to learn something.
TRAIN_RUNS = {
    "pocket-llama": (
        "pretrain_clm.yaml",
        [
            "model.hidden_size=96", "model.num_layers=3", "model.num_heads=4", "model.num_kv_heads=2",
            "model.max_position_embeddings=128", "tokenizer.vocab_size=2048", "data.seq_len=96",
            "train.max_steps=300", "train.batch_size=16", "train.eval_interval=100", "train.eval_batches=8",
            "optim.warmup_steps=20", "card.model_name=pocket-llama", "card.datasets=[eval-guild/wiki-mini]",
        ],
    ),
    "pocket-bert": (
        "pretrain_mlm.yaml",
        [
            "model.hidden_size=96", "model.num_layers=2", "model.num_heads=4", "model.max_position_embeddings=128",
            "tokenizer.vocab_size=2048", "data.seq_len=96", "train.max_steps=100", "train.batch_size=16",
            "train.eval_interval=50", "train.eval_batches=8", "optim.warmup_steps=10", "card.model_name=pocket-bert",
            "card.datasets=[eval-guild/wiki-mini]",
        ],
    ),
}  # fmt: skip


def seed_models(users, *, data: Path, log, train: bool) -> None:
    from training_runner.core.config import TrainConfig
    from training_runner.core.run import run_training

    for name, (config_file, overrides) in TRAIN_RUNS.items():
        if Repo.objects.filter(namespace__name="open-research", name=name, type=RepoType.MODEL).exists():
            continue
        if not train:
            log(f"demo model open-research/{name}: skipped (training disabled)")
            continue
        config_path = settings.BASE_DIR / "training_runner" / "configs" / config_file
        config = TrainConfig.from_yaml(config_path, overrides=[*overrides, f"data.path={data / 'wiki'}"])
        with tempfile.TemporaryDirectory(prefix=f"demo-{name}-") as tmp:
            log(f"demo model open-research/{name}: training with the hub's core ({config.train.max_steps} steps)")
            result = run_training(config, output_dir=Path(tmp) / "out")
            files = {path.name: path for path in sorted(Path(result.output_dir).iterdir()) if path.is_file()}
            # The repository appears only once its model exists: an interrupted seed retries.
            repo, _ = _repo("open-research", name, RepoType.MODEL, users["alice"])
            _commit_files(repo, users["alice"], files, f"Publish {name}, trained with the {config.recipe} recipe")
        log(f"demo model open-research/{name}: published")


def seed_tutorial(users, *, log) -> None:
    repo, created = _repo("alice", "train-a-tiny-llama", RepoType.TUTORIAL, users["alice"])
    if created:
        files = {path.name: path for path in sorted((CONTENT / "tutorial").glob("*.md"))}
        _commit_files(repo, users["alice"], files, "Write the tutorial")
        log("demo tutorial: alice/train-a-tiny-llama")


def seed_review(users, *, log) -> None:
    """A merged pull request with a review conversation, and an open discussion."""
    repo = Repo.objects.filter(namespace__name="open-research", name="pocket-llama").first()
    if repo is None or Discussion.objects.filter(repo=repo).exists():
        return
    bob, carol, alice = users["bob"], users["carol"], users["alice"]
    pr = discussion_create(
        repo=repo, user=bob, title="Add a usage section to the card", pull_request=True,
        description="The card says how the model was trained but not how to load it. This adds a short example.",
    )  # fmt: skip
    readme = _readme_text(repo)
    usage = (
        "\n## Usage\n\n```python\nfrom huggingface_hub import snapshot_download\n\n"
        'path = snapshot_download("open-research/pocket-llama")\n```\n'
    )
    pull_request_commit(
        discussion=pr, user=bob, summary="Add a usage section",
        operations=[AddFile(path="README.md", staged=stage_bytes((readme + usage).encode()))],
    )  # fmt: skip
    discussion_change_status(discussion=pr, user=bob, status=DiscussionStatus.OPEN)
    comment_add(discussion=pr, user=carol, content="Looks right to me; the snippet runs against this hub.")
    comment_add(discussion=pr, user=alice, content="Thanks Bob, merging.")
    pull_request_merge(discussion=pr, user=alice)
    question = discussion_create(
        repo=repo, user=carol, title="Perplexity on the test split?", pull_request=False,
        description="Could the card report the rolling perplexity on wiki-mini's test split too?",
    )  # fmt: skip
    comment_add(discussion=question, user=alice, content="Good idea — the evaluation harness can produce it.")
    for user in (bob, carol):
        like_add(user=user, repo=repo)
    log("demo review: a merged pull request and an open discussion on open-research/pocket-llama")


def _readme_text(repo: Repo) -> str:
    commit = revision_resolve(repo=repo, revision=repo.default_branch).commit
    return file_read(file=tree_lookup(commit.tree_oid, "README.md"), limit=1024 * 1024).decode("utf-8")


def seed_content(*, users, log, train: bool) -> None:
    data = Path(settings.HUB_SHARED_DATA)
    if not (data / "wiki" / "train.txt").exists():
        log(f"the offline data kit is not at {data} (set HUB_SHARED_DATA): skipping datasets and models")
    else:
        seed_datasets(users, data=data, log=log)
        seed_models(users, data=data, log=log, train=train)
    seed_tutorial(users, log=log)
    seed_review(users, log=log)
