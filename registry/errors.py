"""Errors of the registry, with the ``X-Error-Code`` the huggingface_hub client dispatches on."""

from common.errors import Conflict, HubError, NotFound, PermissionDenied


class RepoNotFound(NotFound):
    code = "repo_not_found"
    hf_code = "RepoNotFound"
    default_message = "Repository not found."


class RevisionNotFound(NotFound):
    code = "revision_not_found"
    hf_code = "RevisionNotFound"
    default_message = "Revision not found."


class EntryNotFound(NotFound):
    code = "entry_not_found"
    hf_code = "EntryNotFound"
    default_message = "Entry not found."


class GatedRepo(PermissionDenied):
    code = "gated_repo"
    hf_code = "GatedRepo"
    default_message = "Access to this repository's files is restricted: request access on its page."


class RepoExists(Conflict):
    code = "repo_exists"
    default_message = "You already created a repository with this name."


class CollectionNotFound(NotFound):
    code = "collection_not_found"
    default_message = "Collection not found."


class CollectionExists(Conflict):
    """The owner already has a collection of that title; the body names its ``slug`` (the client's
    ``create_collection(exists_ok=True)`` reads it)."""

    code = "collection_exists"

    def __init__(self, message: str, *, slug: str) -> None:
        super().__init__(message)
        self.slug = slug

    def as_dict(self) -> dict:
        return super().as_dict() | {"slug": self.slug}


class RepoDisabled(HubError):
    """A repository disabled by the moderators: 451, with the Hub's own wording in
    ``X-Error-Message`` (the client raises ``DisabledRepoError`` on it) and the moderation action
    in the body."""

    status = 451
    code = "repo_disabled"
    hf_code = "DisabledRepo"
    default_message = "Access to this resource is disabled."

    def __init__(self, message: str, *, action: int | None, reason: str, log_path: str) -> None:
        super().__init__(message)
        self.moderation = {"action": action, "reason": reason, "log": log_path}

    @property
    def header_message(self) -> str:
        return self.default_message

    def as_dict(self) -> dict:
        return super().as_dict() | {"moderation": self.moderation}


class FileQuarantined(PermissionDenied):
    """A file the malware scan found dangerous: not served until the repository's owner releases it."""

    code = "file_quarantined"
    default_message = "This file is quarantined: the malware scan found it dangerous."
