"""Enumerations of the inference app."""

from django.db import models


class Pipeline(models.TextChoices):
    """Pipeline tags the engine serves (a card's ``pipeline_tag``)."""

    TEXT_GENERATION = "text-generation", "Text generation"
    FILL_MASK = "fill-mask", "Fill mask"
    TEXT_CLASSIFICATION = "text-classification", "Text classification"
    SENTENCE_SIMILARITY = "sentence-similarity", "Sentence similarity"
    FEATURE_EXTRACTION = "feature-extraction", "Feature extraction"


class BattleSide(models.TextChoices):
    A = "a", "Model A"
    B = "b", "Model B"


class VoteOutcome(models.TextChoices):
    A = "a", "A is better"
    B = "b", "B is better"
    TIE = "tie", "Tie"
    BOTH_BAD = "both_bad", "Both are bad"
