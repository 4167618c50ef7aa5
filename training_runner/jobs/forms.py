"""Forms of the run pages (the submission services validate; forms only shape the input)."""

from __future__ import annotations

from django import forms

from training_runner.core.config import RECIPES

RECIPE_LABELS = {
    "pretrain_clm": "pretrain_clm — causal language modelling (decoder, from scratch or continued)",
    "pretrain_mlm": "pretrain_mlm — masked language modelling (BERT-style encoder)",
    "sft": "sft — supervised fine-tuning on conversations (loss on the replies)",
    "classify": "classify — sequence classification (encoder with a classifier head)",
    "lora": "lora — low-rank adapters on a pretrained decoder",
}


class TrainingRunForm(forms.Form):
    recipe = forms.ChoiceField(label="Recipe", choices=[(r, RECIPE_LABELS[r]) for r in RECIPES])
    base_model = forms.CharField(
        label="Base model", required=False, max_length=200,
        help_text="namespace/name of a model to fine-tune; leave empty to train from scratch.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    base_revision = forms.CharField(label="Base model revision", required=False, max_length=255,
                                    help_text="A branch, tag or commit; the default branch when empty.")  # fmt: skip
    dataset = forms.CharField(
        label="Dataset", max_length=200, help_text="namespace/name of a dataset repository.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    dataset_revision = forms.CharField(label="Dataset revision", required=False, max_length=255)
    params = forms.CharField(
        label="Parameters", required=False,
        help_text="One key=value per line, as the recipe's YAML names them (train.max_steps=200, optim.lr=0.001). "
        "Unset keys take the recipe's defaults.",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "monospace"}),
    )  # fmt: skip
    output_repo = forms.CharField(
        label="Publish to", max_length=200,
        help_text="namespace/name of the model repository the result is committed to (created if it does not exist).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    output_branch = forms.CharField(label="Branch", required=False, max_length=255,
                                    help_text="The default branch when empty.")  # fmt: skip
    output_pull_request = forms.BooleanField(
        label="Open a pull request instead of committing", required=False,
        help_text="For repositories you may read but not write to.",
    )  # fmt: skip
    evaluate_after = forms.MultipleChoiceField(
        label="Evaluate the result on", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, suites: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evaluate_after"].choices = [(s, s) for s in suites]


SUITE_IN_REPO = "__repo__"


class EvaluationRunForm(forms.Form):
    model = forms.CharField(
        label="Model", max_length=200, help_text="namespace/name of a model repository.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    revision = forms.CharField(label="Revision", required=False, max_length=255,
                               help_text="A branch, tag or commit; the default branch when empty.")  # fmt: skip
    suite = forms.ChoiceField(label="Suite", widget=forms.RadioSelect)
    suite_repo = forms.CharField(
        label="Suite repository", required=False, max_length=200,
        help_text="namespace/name of a dataset repository holding a suite file (when the suite is in a repository).",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )  # fmt: skip
    suite_revision = forms.CharField(label="Suite revision", required=False, max_length=255)
    suite_file = forms.CharField(label="Suite file", required=False, max_length=500, initial="suite.yaml")
    limit = forms.IntegerField(label="Items per task", required=False, min_value=1, max_value=1_000_000,
                               help_text="Score only the first N items of each task; all when empty.")  # fmt: skip

    def __init__(self, *args, suites: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["suite"].choices = [*suites, (SUITE_IN_REPO, "A suite in a dataset repository")]
