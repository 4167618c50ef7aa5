"""Demo repositories: datasets from the offline data kit, training runs that publish the demo
models (and evaluate them), a tutorial, a pull request with a review discussion, and a protected
branch with a pull request waiting for its code owner. Each step is
skipped when its repository (or, for a model, its run) already exists."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction

from community.card_lint import CARD_LINT_CHECK, card_lint_report
from community.choices import DiscussionStatus
from community.models import Discussion
from community.rules import branch_rule_find
from community.scan_check import scan_check_report
from community.services.branch_rules import branch_rule_set
from community.services.discussions import (
    comment_add,
    discussion_change_status,
    discussion_create,
    pull_request_commit,
    pull_request_merge,
    pull_request_propose,
)
from hub.models import Namespace
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


def seed_news(users, *, data: Path, log) -> None:
    repo, created = _repo("eval-guild", "lee-news", RepoType.DATASET, users["bob"])
    if created:
        files = {
            "news.txt": data / "news" / "lee_background.txt",
            "README.md": (CONTENT / "datasets" / "lee-news.md").read_bytes(),
            "NOTICE": data / "LICENSES" / "gensim-NOTICE.txt",
        }
        _commit_files(repo, users["bob"], files, "Add the Lee news background corpus")
        log("demo dataset: eval-guild/lee-news")


# The demo's leaderboards, one per shipped suite, owned by eval-guild (bob is its admin).
BOARDS = {
    "bigbench-mc": {
        "title": "BIG-bench multiple choice",
        "suite": "bigbench_mc",
        "description": "Twelve BIG-bench multiple-choice tasks, zero-shot, scored per item like lm-evaluation-harness.",
        "columns": None,  # the suite's mean accuracy, then each task's
    },
    "wikitext": {
        "title": "WikiText perplexity",
        "suite": "wikitext_ppl",
        "description": "Rolling-window perplexity of whole Wikipedia articles; lower is better.",
        "columns": [
            "*:bits_per_byte",
            "wikitext_test:bits_per_byte",
            "wikitext_validation:bits_per_byte",
            "wikitext_test:word_perplexity",
        ],
    },
}
BOARD_IDS = [f"eval-guild/{name}" for name in BOARDS]

# The demo models are trained by the hub itself, as training runs on the gpu queue, small enough
# for a minute or two each on two CPU cores. The decoders' cards enrol them on both boards, so
# each is evaluated on both suites as soon as it is published.
TRAIN_RUNS = {
    "pocket-llama": {
        "recipe": "pretrain_clm",
        "dataset": "eval-guild/wiki-mini",
        "params": {
            "card.metadata": {"leaderboards": BOARD_IDS},
            "model.hidden_size": 96,
            "model.num_layers": 3,
            "model.num_heads": 4,
            "model.num_kv_heads": 2,
            "model.max_position_embeddings": 128,
            "tokenizer.vocab_size": 2048,
            "data.seq_len": 96,
            "train.max_steps": 300,
            "train.batch_size": 16,
            "train.eval_interval": 50,
            "train.eval_batches": 8,
            "train.checkpoint_interval": 100,
            "optim.warmup_steps": 20,
        },
    },
    "pocket-gpt2": {
        "recipe": "pretrain_clm",
        "dataset": "eval-guild/lee-news",
        "params": {
            "card.metadata": {"leaderboards": BOARD_IDS},
            "model.arch": "gpt2",
            "model.hidden_size": 96,
            "model.num_layers": 3,
            "model.num_heads": 4,
            "model.max_position_embeddings": 128,
            "tokenizer.vocab_size": 2048,
            "data.seq_len": 96,
            "data.txt_mode": "line",
            "data.val_fraction": 0.1,
            "train.max_steps": 200,
            "train.batch_size": 16,
            "train.eval_interval": 50,
            "train.eval_batches": 4,
            "optim.warmup_steps": 20,
        },
    },
    "pocket-bert": {
        "recipe": "pretrain_mlm",
        "dataset": "eval-guild/wiki-mini",
        "params": {
            "model.hidden_size": 96,
            "model.num_layers": 2,
            "model.num_heads": 4,
            "model.max_position_embeddings": 128,
            "tokenizer.vocab_size": 2048,
            "data.seq_len": 96,
            "train.max_steps": 100,
            "train.batch_size": 16,
            "train.eval_interval": 50,
            "train.eval_batches": 8,
            "optim.warmup_steps": 10,
        },
    },
}


def seed_boards(users, *, log) -> None:
    from evals.leaderboards.models import Leaderboard
    from evals.leaderboards.services.boards import leaderboard_create

    namespace = Namespace.objects.get(name="eval-guild")
    for name, spec in BOARDS.items():
        if Leaderboard.objects.filter(namespace=namespace, name=name).exists():
            continue
        leaderboard_create(
            user=users["bob"],
            namespace=namespace,
            name=name,
            title=spec["title"],
            description=spec["description"],
            suite=spec["suite"],
            columns=spec["columns"],
        )
        log(f"demo leaderboard: eval-guild/{name}")


def seed_models(users, *, log) -> None:
    """Queue the demo models' training runs (the gpu worker of ``make run`` trains, publishes and
    then evaluates them while the site is already up). Skipped for a model that exists or whose
    run is queued, running or done."""
    from training_runner.jobs.choices import RunState
    from training_runner.jobs.models import Run
    from training_runner.jobs.services.submit_training import training_run_submit

    for name, spec in TRAIN_RUNS.items():
        output = f"open-research/{name}"
        if Repo.objects.filter(namespace__name="open-research", name=name, type=RepoType.MODEL).exists():
            continue
        if Run.objects.filter(output_repo_name=output).exclude(state=RunState.FAILED).exists():
            continue
        run = training_run_submit(
            user=users["alice"],
            recipe=spec["recipe"],
            dataset=spec["dataset"],
            params=spec["params"],
            output_repo=output,
            site_url=settings.HUB_SITE_URL,
        )
        log(f"demo model {output}: training run {run.pk} queued ({spec['params']['train.max_steps']} steps)")


def seed_tutorial(users, *, log) -> None:
    repo, created = _repo("alice", "train-a-tiny-llama", RepoType.TUTORIAL, users["alice"])
    if created:
        files = {path.name: path for path in sorted((CONTENT / "tutorial").glob("*.md"))}
        _commit_files(repo, users["alice"], files, "Write the tutorial")
        log("demo tutorial: alice/train-a-tiny-llama")


def seed_review(users, *, log) -> None:
    """A merged pull request with a review conversation on a dataset card, and an open question."""
    repo = Repo.objects.filter(namespace__name="eval-guild", name="wiki-mini", type=RepoType.DATASET).first()
    if repo is None or Discussion.objects.filter(repo=repo).exists():
        return
    bob, carol, alice = users["bob"], users["carol"], users["alice"]
    pr = discussion_create(
        repo=repo,
        user=carol,
        title="Show how to load the splits",
        pull_request=True,
        description="The card lists the splits but not how to read them. This adds a short example.",
    )
    readme = _readme_text(repo)
    usage = (
        "\n## Usage\n\n```python\nfrom huggingface_hub import snapshot_download\n\n"
        'path = snapshot_download("eval-guild/wiki-mini", repo_type="dataset")\n```\n'
    )
    pull_request_commit(
        discussion=pr,
        user=carol,
        summary="Add a usage section",
        operations=[AddFile(path="README.md", staged=stage_bytes((readme + usage).encode()))],
    )
    discussion_change_status(discussion=pr, user=carol, status=DiscussionStatus.OPEN)
    comment_add(discussion=pr, user=alice, content="Looks right to me; the snippet runs against this hub.")
    comment_add(discussion=pr, user=bob, content="Thanks Carol, merging.")
    pull_request_merge(discussion=pr, user=bob)
    question = discussion_create(
        repo=repo,
        user=alice,
        title="Hold out by article or by paragraph?",
        pull_request=False,
        description="The validation split holds whole articles out. Would paragraph-level hold-out leak less?",
    )
    comment_add(discussion=question, user=bob, content="Whole articles: nearby paragraphs share too much text.")
    for user in (alice, carol):
        like_add(user=user, repo=repo)
    log("demo review: a merged pull request and an open discussion on eval-guild/wiki-mini")


def seed_protected(users, *, log) -> None:
    """The tutorial's main branch under a branch rule (a code owner's approval, the hub's
    ``card-lint`` check), and bob's pull request waiting for alice, its code owner."""
    repo = Repo.objects.filter(namespace__name="alice", name="train-a-tiny-llama", type=RepoType.TUTORIAL).first()
    if repo is None or branch_rule_find(repo=repo, branch="main") is not None:
        return
    alice, bob = users["alice"], users["bob"]
    _commit_files(repo, alice, {"CODEOWNERS": b"# Every page of the tutorial is reviewed by its author.\n* @alice\n"},
                  "Name the tutorial's code owner")  # fmt: skip
    branch_rule_set(
        repo=repo, branch="main", require_pull_request=True, required_approvals=1, required_checks=[CARD_LINT_CHECK],
        code_owners=True, dismiss_stale_approvals=True, actor=alice,
    )  # fmt: skip
    page = file_read(
        file=tree_lookup(revision_resolve(repo=repo, revision="main").commit.tree_oid, "03-training.md"),
        limit=1024 * 1024,
    ).decode("utf-8")
    tip = (
        "\n> **Tip.** Watch the validation loss on the run page: when it stops falling while the "
        "training loss still does, stop early and keep the last good checkpoint.\n"
    )
    with transaction.atomic():
        pr = pull_request_propose(
            repo=repo, user=bob, branch="main", summary="Say when to stop training",
            description="A short tip on early stopping for the training chapter.",
            operations=[AddFile(path="03-training.md", staged=stage_bytes((page + tip).encode()))],
        )  # fmt: skip
    head = revision_resolve(repo=repo, revision=pr.git_reference).oid
    card_lint_report(repo=repo, commit_oid=head)
    scan_check_report(repo=repo, commit_oid=head)
    log("demo branch rule: bob's pull request on alice/train-a-tiny-llama waits for its code owner")


def _readme_text(repo: Repo) -> str:
    commit = revision_resolve(repo=repo, revision=repo.default_branch).commit
    return file_read(file=tree_lookup(commit.tree_oid, "README.md"), limit=1024 * 1024).decode("utf-8")


def seed_content(*, users, log, train: bool) -> None:
    data = Path(settings.HUB_SHARED_DATA)
    if not (data / "wiki" / "train.txt").exists():
        log(f"the offline data kit is not at {data} (set HUB_SHARED_DATA): skipping datasets and models")
    else:
        seed_datasets(users, data=data, log=log)
        seed_news(users, data=data, log=log)
        seed_boards(users, log=log)
        if train:
            seed_models(users, log=log)
    seed_tutorial(users, log=log)
    seed_review(users, log=log)
    seed_protected(users, log=log)
