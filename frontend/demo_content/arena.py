"""Demo inference: the playground switched on for the demo models, and a few arena battles.

``seed_arena(users, log=...)`` works with whatever demo models exist (repositories of the
``open-research`` organization with a pipeline the engine serves) and does nothing more than log
when there are none. Battles need two text-generation models; their answers are generated here,
in this process, with the same engine code the engine process runs (``make run`` seeds before the
engine starts). Each step is skipped when already done.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from registry.choices import RepoType
from registry.models import Repo
from registry.snapshots import snapshot_materialize
from training_runner.engine.loaded import load_model_dir
from training_runner.engine.params import GenerateParams, Sampling
from training_runner.engine.text import generate_text
from training_runner.inference.models import Battle
from training_runner.inference.selectors import arena_models, pipeline_of, playground_enabled
from training_runner.inference.services.arena import (
    ARENA_SAMPLING,
    arena_ratings_recompute,
    battle_answer_save,
    battle_create,
    vote_cast,
)
from training_runner.inference.services.playgrounds import playground_set

DEMO_NAMESPACE = "open-research"
# (voter, prompt, how the voter judges: "longer" prefers the longer answer, or a fixed outcome)
BATTLES = [
    ("bob", "The history of the city", "longer"),
    ("carol", "In mathematics, a prime number", "longer"),
    ("bob", "The river flows through", "tie"),
    ("carol", "During the war, the army", "longer"),
    ("bob", "The album was released", "both_bad"),
    ("carol", "The species is found in", "longer"),
]


def seed_arena(users, *, log) -> None:
    demo = Repo.objects.filter(namespace__name=DEMO_NAMESPACE, type=RepoType.MODEL).order_by("name")
    for repo in demo:
        if pipeline_of(repo) is not None and not playground_enabled(repo=repo):
            playground_set(user=users["alice"], namespace=DEMO_NAMESPACE, name=repo.name, enabled=True)
            log(f"demo playground: {repo.repo_id} ({repo.pipeline_tag})")
    contestants = arena_models()
    if len(contestants) < 2:
        log(f"demo arena: {len(contestants)} text-generation model(s) with the playground on; battles need two")
        return
    if Battle.objects.exists():
        return
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="demo-arena-") as tmp:
        loaded = {}
        for number, (voter, prompt, judge) in enumerate(BATTLES):
            battle = battle_create(user=users[voter], prompt=prompt, rng=rng)
            answers = {}
            for side, repo, commit in (("a", battle.model_a, battle.commit_a), ("b", battle.model_b, battle.commit_b)):
                key = f"{repo.pk}@{commit}"
                if key not in loaded:
                    path = snapshot_materialize(repo=repo, commit_oid=commit, root=Path(tmp))
                    loaded[key] = load_model_dir(path, key=key)
                sampling = Sampling(**ARENA_SAMPLING, seed=number)
                answers[side] = generate_text(loaded[key], GenerateParams(prompt=prompt, sampling=sampling))["text"]
                battle_answer_save(battle=battle, side=side, text=answers[side])
            outcome = judge if judge != "longer" else ("a" if len(answers["a"]) >= len(answers["b"]) else "b")
            vote_cast(user=users[voter], battle_id=battle.pk, outcome=outcome)
    rated = arena_ratings_recompute()
    log(f"demo arena: {len(BATTLES)} battles voted, {rated} models rated")
