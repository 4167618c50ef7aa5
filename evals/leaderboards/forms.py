"""Forms of the leaderboard pages (the services validate; forms only shape the input)."""

from __future__ import annotations

from django import forms

from evals.leaderboards.choices import SubmissionPolicy


class SubmitForm(forms.Form):
    model = forms.CharField(
        label="Your model",
        max_length=200,
        help_text="namespace/name of a model repository you can write to.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off", "placeholder": "namespace/name"}),
    )
    revision = forms.CharField(
        label="Revision",
        required=False,
        max_length=255,
        help_text="A branch, tag or commit; the default branch when empty.",
    )


class LeaderboardForm(forms.Form):
    owner = forms.ChoiceField(label="Organization", help_text="Boards belong to an organization you administer.")
    name = forms.CharField(label="Name", max_length=96, help_text="Part of the board's URL.")
    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    suite = forms.CharField(
        label="Suite",
        max_length=200,
        help_text="A shipped suite (bigbench_mc, wikitext_ppl) or datasets/<namespace>/<name>.",
    )
    suite_revision = forms.CharField(label="Suite revision", required=False, max_length=255)
    suite_file = forms.CharField(label="Suite file", required=False, max_length=500)
    columns = forms.CharField(
        label="Columns",
        required=False,
        max_length=2000,
        help_text="task:metric pairs separated by commas, the first ranks (*:acc is the suite "
        "aggregate); empty: the aggregate and each task's first metric.",
    )
    policy = forms.ChoiceField(
        label="Who may submit", choices=SubmissionPolicy.choices, initial=SubmissionPolicy.ANYONE
    )
    max_parameters = forms.IntegerField(label="Largest model (parameters)", required=False, min_value=1)
    limit = forms.IntegerField(
        label="Items per task",
        required=False,
        min_value=1,
        help_text="Score only the first N items of each task; all when empty.",
    )

    def __init__(self, *args, owners: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(name, name) for name in owners]
