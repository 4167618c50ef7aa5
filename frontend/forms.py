"""Forms of the repository pages (the services validate; forms only shape the input)."""

from __future__ import annotations

from django import forms

from community.services.discussions import MAX_COMMENT
from registry.choices import RepoType


def visibility_field() -> forms.ChoiceField:
    """Public or private, for a repository or a collection."""
    return forms.ChoiceField(
        label="Visibility",
        choices=[("public", "Public — anyone can see it"), ("private", "Private — only you and your organization")],
        initial="public",
        widget=forms.RadioSelect,
    )


class RepoCreateForm(forms.Form):
    owner = forms.ChoiceField(label="Owner")
    name = forms.CharField(
        label="Name",
        max_length=96,
        help_text="Letters, digits, '-', '_' and '.'; it becomes part of the repository's URL.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    type = forms.ChoiceField(label="Type", choices=RepoType.choices, initial=RepoType.MODEL, widget=forms.RadioSelect)
    visibility = visibility_field()

    def __init__(self, *args, owners: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(name, name) for name in owners]


class FileEditForm(forms.Form):
    content = forms.CharField(
        label="Content", required=False, strip=False, widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"})
    )
    summary = forms.CharField(label="Commit message", max_length=500, required=False)
    description = forms.CharField(
        label="Extended description", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    parent = forms.CharField(widget=forms.HiddenInput, max_length=40)
    # Offered to people who may commit to the branch; the others always open a pull request.
    target = forms.ChoiceField(
        label="Where the change goes",
        choices=[("commit", "Commit directly to the branch"), ("pr", "Open a pull request instead")],
        required=False,
        widget=forms.RadioSelect,
    )

    def clean_content(self) -> str:
        # Browsers submit textarea lines with CRLF; repositories keep the author's LF.
        return self.cleaned_data["content"].replace("\r\n", "\n")


class DiscussionNewForm(forms.Form):
    """A new discussion, or a new pull request (then ``branches`` lists the targets to choose)."""

    title = forms.CharField(label="Title", max_length=200)
    description = forms.CharField(
        label="Description", required=False, max_length=MAX_COMMENT,
        help_text="Markdown: code blocks, tables, links, $math$.",
        widget=forms.Textarea(attrs={"rows": 8}),
    )  # fmt: skip
    target_branch = forms.ChoiceField(label="Target branch", required=False)

    def __init__(self, *args, branches: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if branches:
            self.fields["target_branch"].choices = [(name, name) for name in branches]
            self.fields["target_branch"].required = True
        else:
            del self.fields["target_branch"]


class CollectionForm(forms.Form):
    """A new collection (with ``owners``) or a collection's settings (without)."""

    owner = forms.ChoiceField(label="Owner")
    title = forms.CharField(label="Title", max_length=60)
    description = forms.CharField(
        label="Description", required=False, max_length=150, help_text="At most 150 characters, plain text."
    )
    visibility = visibility_field()

    def __init__(self, *args, owners: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if owners is None:
            del self.fields["owner"]
        else:
            self.fields["owner"].choices = [(name, name) for name in owners]


class CollectionItemForm(forms.Form):
    type = forms.ChoiceField(label="Kind")
    item = forms.CharField(
        label="Id",
        max_length=200,
        help_text="As in its URL: owner/name.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    note = forms.CharField(label="Note", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, kinds: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = kinds


class CollectionPickForm(forms.Form):
    """Which of the visitor's collections an object goes to, with a note."""

    collection = forms.ChoiceField(label="Collection")
    note = forms.CharField(label="Note", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, collections: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = collections
