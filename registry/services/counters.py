"""Downloads, likes and trending scores. Counters change only through F() expressions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from registry.models import DownloadDay, Like, Repo

# Requests from one client within this window count as one download (a snapshot fetching twenty
# files is one download, as a person would count it).
DOWNLOAD_DEDUP_SECONDS = 300
DOWNLOAD_WINDOW_DAYS = 30


def download_record(*, repo: Repo, client_key: str) -> bool:
    """Count a download of ``repo`` by ``client_key`` (user id or address); True if it counted."""
    if not cache.add(f"download:{repo.pk}:{client_key}", 1, DOWNLOAD_DEDUP_SECONDS):
        return False
    today = timezone.now().date()
    with transaction.atomic():
        Repo.objects.filter(pk=repo.pk).update(
            downloads=F("downloads") + 1, downloads_all_time=F("downloads_all_time") + 1
        )
        updated = DownloadDay.objects.filter(repo=repo, day=today).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    DownloadDay.objects.create(repo=repo, day=today, count=1)
            except IntegrityError:
                DownloadDay.objects.filter(repo=repo, day=today).update(count=F("count") + 1)
    return True


@dataclass(frozen=True)
class LikeState:
    """Whether the user now likes the repository, and its like count after the change."""

    liked: bool
    likes: int


def repo_like_set(*, user, repo: Repo, liked: bool) -> LikeState:
    """``user`` likes (``liked``) or stops liking ``repo``: the one service behind the like button,
    the REST API and the HF API. Idempotent; the count moves only with a row (F() update)."""
    if liked:
        like_add(user=user, repo=repo)
    else:
        like_remove(user=user, repo=repo)
    return LikeState(liked=liked, likes=Repo.objects.values_list("likes", flat=True).get(pk=repo.pk))


def like_add(*, user, repo: Repo) -> bool:
    """``user`` likes ``repo``; liking twice changes nothing. True if the like is new."""
    try:
        with transaction.atomic():
            Like.objects.create(user=user, repo=repo)
            Repo.objects.filter(pk=repo.pk).update(likes=F("likes") + 1)
    except IntegrityError:
        return False
    return True


def like_remove(*, user, repo: Repo) -> bool:
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, repo=repo).delete()
        if deleted:
            Repo.objects.filter(pk=repo.pk, likes__gt=0).update(likes=F("likes") - 1)
    return bool(deleted)


def counters_refresh() -> int:
    """Recompute 30-day downloads and trending scores from the daily buckets and recent likes.

    Trending: downloads of the last 7 days plus ten per like of the last 7 days, halved for every
    week since the last change. Idempotent; returns the number of repositories updated.
    """
    now = timezone.now()
    month_ago = now.date() - timedelta(days=DOWNLOAD_WINDOW_DAYS)
    week_ago = now.date() - timedelta(days=7)
    rows = Repo.objects.annotate(
        month=Sum("download_days__count", filter=Q(download_days__day__gt=month_ago), default=0),
    ).values_list("pk", "month", "last_modified")
    week = dict(
        DownloadDay.objects.filter(day__gt=week_ago)
        .values("repo")
        .annotate(total=Sum("count"))
        .values_list("repo", "total")
    )
    liked = dict(
        Like.objects.filter(created_at__gt=now - timedelta(days=7))
        .values("repo")
        .annotate(total=Count("id"))
        .values_list("repo", "total")
    )
    updated = 0
    for pk, month, last_modified in rows:
        age_days = max(0.0, (now - last_modified).total_seconds() / 86400)
        score = (week.get(pk, 0) + 10 * liked.get(pk, 0) + 1) * 0.5 ** (min(age_days, 365) / 7)
        updated += Repo.objects.filter(pk=pk).update(downloads=month, trending_score=round(score, 6))
    return updated
