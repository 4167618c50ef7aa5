"""The "use this repository" snippets: code that fetches it from this hub with the stock clients."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString

from frontend.highlight import highlight_lines
from registry.choices import RepoType

# transformers' Auto class for each pipeline tag a card may declare.
AUTO_CLASSES = {
    "text-generation": "AutoModelForCausalLM",
    "fill-mask": "AutoModelForMaskedLM",
    "text-classification": "AutoModelForSequenceClassification",
    "zero-shot-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "text2text-generation": "AutoModelForSeq2SeqLM",
    "summarization": "AutoModelForSeq2SeqLM",
    "translation": "AutoModelForSeq2SeqLM",
}


@dataclass(frozen=True)
class Snippet:
    key: str
    title: str
    language: str
    code: str

    @property
    def lines(self) -> list[SafeString]:
        return highlight_lines(self.code, filename="snippet", language=self.language)


def usage_snippets(*, repo, endpoint: str, pipeline_tag: str = "", library_name: str = "") -> list[Snippet]:
    """Snippets for ``repo`` on the hub at ``endpoint`` (e.g. ``http://hub.example:8000``)."""
    repo_id = repo.repo_id
    token_note = (
        "\n# Private or gated: log in first (hf auth login) or set HF_TOKEN to a token of this hub."
        if (repo.private or repo.gated)
        else ""
    )
    setup = f'import os\nos.environ["HF_ENDPOINT"] = "{endpoint}"  # before importing the libraries{token_note}\n'
    repo_type = RepoType(repo.type)
    type_argument = "" if repo_type is RepoType.MODEL else f', repo_type="{repo_type.value}"'
    snippets = [
        Snippet(
            key="huggingface_hub",
            title="huggingface_hub",
            language="python",
            code=f"{setup}\nfrom huggingface_hub import snapshot_download\n\n"
            f'path = snapshot_download("{repo_id}"{type_argument})\n',
        )
    ]
    if repo_type is RepoType.MODEL and library_name in {"", "transformers"}:
        auto_class = AUTO_CLASSES.get(pipeline_tag, "AutoModel")
        code = (
            f"{setup}\nfrom transformers import AutoTokenizer, {auto_class}\n\n"
            f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}")\n'
            f'model = {auto_class}.from_pretrained("{repo_id}")\n'
        )
        if pipeline_tag:
            code += (
                "\n# or, as a pipeline:\nfrom transformers import pipeline\n\n"
                f'pipe = pipeline("{pipeline_tag}", model="{repo_id}")\n'
            )
        snippets.append(Snippet(key="transformers", title="transformers", language="python", code=code))
    if repo_type is RepoType.DATASET:
        snippets.append(
            Snippet(
                key="datasets",
                title="datasets",
                language="python",
                code=f'{setup}\nfrom datasets import load_dataset\n\ndataset = load_dataset("{repo_id}")\n',
            )
        )
    cli_type = "" if repo_type is RepoType.MODEL else f" --repo-type {repo_type.value}"
    snippets.append(
        Snippet(
            key="cli",
            title="hf CLI",
            language="bash",
            code=f"HF_ENDPOINT={endpoint} hf download {repo_id}{cli_type}\n",
        )
    )
    return snippets
