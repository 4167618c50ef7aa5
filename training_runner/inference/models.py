"""Playground switches, arena battles, votes and the ratings computed from them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from registry.models import Repo
from training_runner.inference.choices import VoteOutcome


class Playground(models.Model):
    """Whether a model's admins turned inference on (playground, APIs, arena)."""

    repo = models.OneToOneField(Repo, on_delete=models.CASCADE, related_name="playground")
    enabled = models.BooleanField(default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"playground of {self.repo_id}: {'on' if self.enabled else 'off'}"


class Battle(models.Model):
    """One prompt answered by two anonymous models; ``model_a`` / ``model_b`` stay hidden from the
    voter until the vote. Each answer is stored when its stream finishes (``done_a`` / ``done_b``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="battles")
    prompt = models.TextField()
    model_a = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="+")
    model_b = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="+")
    commit_a = models.CharField(max_length=40)
    commit_b = models.CharField(max_length=40)
    answer_a = models.TextField(blank=True)
    answer_b = models.TextField(blank=True)
    done_a = models.BooleanField(default=False)
    done_b = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"battle {self.id}"


class Vote(models.Model):
    """The one vote of a battle. ``counted`` is False when the voter had reached the cap of votes
    on this pair of models: the vote is kept in the log but does not move the ratings."""

    battle = models.OneToOneField(Battle, on_delete=models.CASCADE, related_name="vote")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arena_votes")
    # The pair in a canonical order (lower repo id first), so the cap counts both seatings.
    pair_low = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="+")
    pair_high = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(max_length=8, choices=VoteOutcome.choices)
    counted = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "pair_low", "pair_high"])]

    def __str__(self) -> str:
        return f"vote {self.outcome} on {self.battle_id}"


class ArenaRating(models.Model):
    """A model's Bradley–Terry rating (Elo scale) with its bootstrap 95 % interval."""

    repo = models.OneToOneField(Repo, on_delete=models.CASCADE, related_name="arena_rating")
    rating = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    battles = models.PositiveIntegerField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.repo_id}: {self.rating:.0f}"
