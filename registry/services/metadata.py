"""Repository metadata derived from the default branch: card fields, tags, search text."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from registry.cards.vocab import BASE_MODEL_RELATIONS
from registry.models import GitCommit, Repo, RepoTag
from registry.signals import default_branch_moved

MAX_TAGS = 200


def base_model_relation(card) -> str | None:
    """How a model derives from the base models its card names (None: it names none).

    The card's ``base_model_relation`` wins; otherwise, as the Hub infers it from what it knows,
    several bases make a merge, a PEFT library an adapter, a GGUF model a quantization, and
    anything else a fine-tune. (Only the card is read: the relation is derived when it changes.)
    """
    if card is None or not card.base_model:
        return None
    declared = card.metadata.get("base_model_relation")
    if declared in BASE_MODEL_RELATIONS:
        return declared
    if len(card.base_model) > 1:
        return "merge"
    if card.library_name == "peft":
        return "adapter"
    if card.library_name == "gguf" or "gguf" in card.tags:
        return "quantized"
    return "finetune"


def card_tags(card) -> list[str]:
    """Tags a listing filter can match: the card's own, plus derived ``kind:value`` tags."""
    if card is None:
        return []
    tags: list[str] = list(card.tags)
    tags += [value for value in (card.library_name, card.pipeline_tag) if value]
    tags += list(card.language)
    if card.license:
        tags.append(f"license:{card.license}")
    tags += [f"dataset:{name}" for name in card.datasets]
    tags += [f"base_model:{name}" for name in card.base_model]
    # The Hub's model-tree filters: ``base_model:finetune:org/base`` lists the fine-tunes of a model.
    relation = base_model_relation(card)
    tags += [f"base_model:{relation}:{name}" for name in card.base_model]
    unique: list[str] = []
    for tag in tags:
        tag = str(tag)[:200]
        if tag and tag not in unique:
            unique.append(tag)
    return unique[:MAX_TAGS]


def _first_paragraph(body: str) -> str:
    for block in body.split("\n\n"):
        text = " ".join(line.strip() for line in block.strip().splitlines() if not line.strip().startswith("#"))
        if text and not text.startswith(("<", "|", "```", "!")):
            # A listing shows it as plain text: drop inline-code and emphasis markers.
            return re.sub(r"`([^`]*)`|\*\*([^*]+)\*\*", lambda m: m.group(1) or m.group(2), text)[:500]
    return ""


def repo_apply_card(*, repo: Repo, card) -> None:
    """Index ``card`` (None: no README) on ``repo``: fields, tags and the search document."""
    from registry.cards import card_search_text

    if card is None:
        repo.card_data, repo.license, repo.pipeline_tag, repo.library_name, repo.description = {}, "", "", "", ""
        tags: list[str] = []
        text = ""
    else:
        repo.card_data = card.metadata
        repo.license = (card.license or "")[:64]
        repo.pipeline_tag = (card.pipeline_tag or "")[:64]
        repo.library_name = (card.library_name or "")[:64]
        repo.description = _first_paragraph(card.body)
        tags = card_tags(card)
        text = card_search_text(card)
    repo.search_document = "\n".join([repo.namespace.name, repo.name, " ".join(tags), text])
    repo.save(update_fields=["card_data", "license", "pipeline_tag", "library_name", "description", "search_document"])
    RepoTag.objects.filter(repo=repo).exclude(tag__in=tags).delete()
    RepoTag.objects.bulk_create([RepoTag(repo=repo, tag=tag) for tag in tags], ignore_conflicts=True)


def repo_index_name(*, repo: Repo) -> None:
    """Keep the search document's first lines in step with the repository's name (after a move)."""
    lines = repo.search_document.split("\n", 2)
    rest = lines[2] if len(lines) > 2 else ""
    repo.search_document = "\n".join([repo.namespace.name, repo.name, rest])
    repo.save(update_fields=["search_document"])


def repo_on_default_branch_commit(*, repo: Repo, commit: GitCommit, card, card_changed: bool) -> None:
    """Bookkeeping after the default branch moved to ``commit``; runs inside the commit's transaction."""
    Repo.objects.filter(pk=repo.pk).update(last_modified=timezone.now())
    if card_changed:
        repo_apply_card(repo=repo, card=card)
    from registry.tasks import repo_stats_refresh

    repo_stats_refresh.delay_on_commit(repo.pk)
    repo_id, oid = repo.pk, commit.oid
    transaction.on_commit(lambda: default_branch_moved.send(sender=Repo, repo_id=repo_id, commit_oid=oid))


def repo_stats_set(*, repo_id: int, used_storage: int) -> None:
    Repo.objects.filter(pk=repo_id).update(used_storage=used_storage)
