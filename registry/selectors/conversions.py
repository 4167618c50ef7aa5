"""Reads of conversions to safetensors."""

from __future__ import annotations

from common.errors import NotFound
from registry.models import Conversion, Repo


def conversion_get(*, repo: Repo, conversion_id: int) -> Conversion:
    found = Conversion.objects.filter(repo=repo, pk=conversion_id).first()
    if found is None:
        raise NotFound(f"Conversion {conversion_id} not found in {repo.repo_id}.")
    return found


def conversions_recent(*, repo: Repo, limit: int = 5) -> list[Conversion]:
    return list(Conversion.objects.filter(repo=repo).order_by("-created_at", "-pk")[:limit])
