"""Templates, few-shot draws and prompt assembly (no model involved)."""

import hashlib
import json

import pytest

from evals.harness import templates
from evals.harness.data import Item
from evals.harness.errors import TaskSpecError
from evals.harness.fewshot import build_context, sample_shots
from evals.harness.requests import prepare_task
from evals.harness.spec import task_spec_from_dict

DOC = {"id": 7, "question": "2+2?", "choices": ["three", "four", "five"], "gold": 1}
CHOICES = ["three", "four", "five"]


def test_templates_render_fields_keep_trailing_newlines_and_reject_unknown_fields():
    assert templates.render("Q: {{ question }}\n", DOC, label="t") == "Q: 2+2?\n"
    assert templates.render("{{ question | regex_replace('[0-9]', 'n') }}", DOC, label="t") == "n+n?"
    with pytest.raises(TaskSpecError, match=r"doc_to_text: cannot render for document 7: 'answer' is undefined"):
        templates.render("{{ answer }}", DOC, label="doc_to_text")


def test_templates_run_sandboxed():
    with pytest.raises(TaskSpecError, match="cannot render"):
        templates.render("{{ choices.append('six') }}", DOC, label="t")
    with pytest.raises(TaskSpecError, match="cannot render"):
        templates.render("{{ ''.__class__.__mro__ }}", DOC, label="t")


def test_literal_renders_jinja_syntax_verbatim():
    text = "Use {{ braces }} and {% tags %} and {# comments #} {% endraw %} as text."
    assert templates.render(templates.literal(text), DOC, label="t") == text
    assert templates.literal("plain: no braces") == "plain: no braces"


def test_choices_and_targets():
    assert templates.render_choices("{{ choices }}", DOC) == CHOICES
    assert templates.render_choices(("yes {{ id }}", "no"), DOC) == ["yes 7", "no"]
    # Digits are a choice index (as in lm-evaluation-harness); other text must be one of the choices.
    assert templates.render_target("{{ gold }}", DOC, CHOICES) == 1
    assert templates.render_target("{{ choices[2] }}", DOC, CHOICES) == 2
    assert templates.render_target("{{ question }}", DOC, None) == "2+2?"
    with pytest.raises(TaskSpecError, match="index 3 is out of range for 3 choices in document 7"):
        templates.render_target("3", DOC, CHOICES)
    with pytest.raises(TaskSpecError, match="'six' is not one of the choices of document 7"):
        templates.render_target("six", DOC, CHOICES)
    with pytest.raises(TaskSpecError, match="not a list literal"):
        templates.render_choices("{{ question }}", DOC)
    with pytest.raises(TaskSpecError, match="non-empty list of non-empty strings"):
        templates.render_choices("['a', '']", DOC)


def test_seeded_shuffle_is_a_fixed_permutation_per_key():
    values = list(range(20))
    first = templates.render("{{ values | seeded_shuffle('t', 1) | join(',') }}", {"values": values}, label="t")
    again = templates.render("{{ values | seeded_shuffle('t', 1) | join(',') }}", {"values": values}, label="t")
    other = templates.render("{{ values | seeded_shuffle('t', 2) | join(',') }}", {"values": values}, label="t")
    assert first == again
    assert first != other
    assert sorted(int(v) for v in first.split(",")) == values


def test_context_is_description_shots_then_question():
    context = build_context(
        description="Add.\n\n",
        shots=[("1+1?", "2"), ("2+3?", "5")],
        text="2+2?",
        target_delimiter=" ",
        fewshot_delimiter="\n\n",
    )
    assert context == "Add.\n\n1+1? 2\n\n2+3? 5\n\n2+2?"


def test_shots_depend_only_on_task_item_and_seed():
    pool = [Item(id=i, doc={"id": i}) for i in range(50)]
    shots = sample_shots(pool, k=5, task_hash="h", item_id=3, seed=1234)
    assert len(shots) == 5
    assert 3 not in [shot.id for shot in shots]
    assert len({shot.id for shot in shots}) == 5
    # Same draw whatever order the items are processed in, and whatever else is drawn in between.
    sample_shots(pool, k=5, task_hash="h", item_id=4, seed=1234)
    assert sample_shots(pool, k=5, task_hash="h", item_id=3, seed=1234) == shots
    draws = {tuple(s.id for s in sample_shots(pool, k=5, task_hash="h", item_id=3, seed=seed)) for seed in range(6)}
    assert len(draws) == 6
    assert sample_shots(pool, k=5, task_hash="h2", item_id=3, seed=1234) != shots
    with pytest.raises(TaskSpecError, match="num_fewshot=50 but the few-shot split has only 49 other items"):
        sample_shots(pool, k=50, task_hash="h", item_id=3, seed=1234)


def _write_dataset(root, docs):
    body = "".join(json.dumps(doc) + "\n" for doc in docs).encode()
    (root / "toy").mkdir()
    (root / "toy" / "test.jsonl").write_bytes(body)
    return hashlib.sha256(body).hexdigest()


def test_prepared_prompts_do_not_depend_on_limit(tmp_path):
    docs = [{"id": i, "q": f"{i}+{i}?", "choices": [str(2 * i), str(2 * i + 1)], "gold": 0} for i in range(12)]
    sha = _write_dataset(tmp_path, docs)
    spec = task_spec_from_dict(
        {
            "name": "toy",
            "version": 1,
            "dataset": {
                "format": "jsonl",
                "id_field": "id",
                "splits": {"test": {"path": "toy/test.jsonl", "sha256": sha}},
            },
            "split": "test",
            "output_type": "multiple_choice",
            "description": "Sums.\n\n",
            "doc_to_text": "Q: {{ q }}\nA:",
            "doc_to_target": "{{ gold }}",
            "doc_to_choice": "{{ choices }}",
            "num_fewshot": 2,
        },
        source="t",
    )
    full = prepare_task(spec, data_root=tmp_path, limit=None, seed=1234)
    limited = prepare_task(spec, data_root=tmp_path, limit=3, seed=1234)
    assert [item.prompt for item in limited.items] == [item.prompt for item in full.items[:3]]
    first = full.items[0]
    a, b = first.fewshot_ids
    assert first.prompt == f"Sums.\n\nQ: {a}+{a}?\nA: {2 * a}\n\nQ: {b}+{b}?\nA: {2 * b}\n\nQ: 0+0?\nA:"
    assert [(r.context, r.continuation) for r in first.requests] == [(first.prompt, " 0"), (first.prompt, " 1")]
    assert full.n_available == 12
    other_seed = prepare_task(spec, data_root=tmp_path, limit=None, seed=99)
    assert [i.fewshot_ids for i in other_seed.items] != [i.fewshot_ids for i in full.items]
