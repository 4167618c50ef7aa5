"""The git-LFS batch API and its upload targets (HF_PROTOCOL.md §2.6 step 3).

The client sends no credentials on the PUTs and the multipart completion, so those URLs carry
their own: a signed, expiring token naming the repository, the object and (for parts) the session.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse

from common.asgi import streams_request_body
from common.errors import HubError, NotFound, PermissionDenied, Unauthenticated, ValidationError, error_response
from common.inputs import value_choice
from hub.hf import hf_endpoint, read_json
from hub.scopes import reads_over_post
from registry import objectstore
from registry.access import Permission, access_repo, check_can_read_files, check_repo_enabled
from registry.choices import RepoType
from registry.errors import FileQuarantined, GatedRepo, RepoNotFound
from registry.hf.common import origin
from registry.hf.delivery import stored_file_response
from registry.models import Blob, Repo, blob_storage_key
from registry.selectors.scans import scan_check_servable
from registry.services import uploads

LFS_CONTENT_TYPE = "application/vnd.git-lfs+json"
SALT = "registry.lfs"


def _sign(**payload) -> str:
    return signing.dumps(payload, salt=SALT, compress=True)


def _unsign(token: str) -> dict:
    try:
        return signing.loads(token, salt=SALT, max_age=settings.HUB_SIGNED_URL_SECONDS)
    except signing.SignatureExpired:
        raise PermissionDenied("This upload URL has expired; ask the batch API for a new one.") from None
    except signing.BadSignature:
        raise PermissionDenied("This upload URL is not valid.") from None


def _lfs_json(body: dict, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, content_type=LFS_CONTENT_TYPE)


def _direct_actions(request: HttpRequest, repo: Repo, oid: str, size: int, *, multipart: bool) -> dict:
    """Upload actions that send the bytes straight to the bucket (presigned PUT or part URLs); the
    verify (basic) or completion (multipart) URL is the hub's, which checks them before promoting."""
    base = origin(request)
    multipart = multipart and size >= settings.HUB_MULTIPART_THRESHOLD_BYTES
    upload = uploads.direct_upload_start(sha256=oid, size=size, multipart=multipart)
    verify_token = _sign(r=repo.pk, o=oid, s=size, k=upload.key)
    verify = {"href": base + reverse("lfs-verify", kwargs={"token": verify_token})}
    if upload.upload_id is None:
        return {"upload": {"href": objectstore.presigned_put(upload.key)}, "verify": verify}
    header = {"chunk_size": str(upload.part_size)}
    for number in range(1, upload.part_count + 1):
        header[str(number)] = objectstore.presigned_part(upload.key, upload_id=upload.upload_id, number=number)
    token = _sign(r=repo.pk, o=oid, s=size, k=upload.key, m=upload.upload_id, n=upload.part_count)
    complete = base + reverse("lfs-complete", kwargs={"token": token})
    return {"upload": {"href": complete, "header": header}, "verify": verify}


def _object_actions(request: HttpRequest, repo: Repo, oid: str, size: int, *, multipart: bool) -> dict:
    # A single PUT to S3 holds at most 5 GB: larger objects offered only ``basic`` (git-lfs) go
    # through the hub, which stores them in the bucket in parts.
    fits = (multipart and size >= settings.HUB_MULTIPART_THRESHOLD_BYTES) or size <= objectstore.MAX_PUT_BYTES
    if objectstore.direct_uploads() and fits:
        return _direct_actions(request, repo, oid, size, multipart=multipart)
    base = origin(request)
    verify = {"href": base + reverse("lfs-verify", kwargs={"token": _sign(r=repo.pk, o=oid, s=size)})}
    if multipart and size >= settings.HUB_MULTIPART_THRESHOLD_BYTES:
        session = uploads.upload_session_start(repo=repo, user=request.user, sha256=oid, size=size)
        header = {"chunk_size": str(session.chunk_size)}
        for number in range(1, session.part_count + 1):
            token = _sign(u=str(session.id), p=number)
            header[str(number)] = base + reverse("lfs-part", kwargs={"token": token})
        complete = base + reverse("lfs-complete", kwargs={"token": _sign(u=str(session.id))})
        return {"upload": {"href": complete, "header": header}, "verify": verify}
    token = _sign(r=repo.pk, o=oid, s=size)
    return {"upload": {"href": base + reverse("lfs-object", kwargs={"token": token})}, "verify": verify}


def _batch_downloads(request: HttpRequest) -> bool:
    """A batch request that only asks for downloads: a read, which read tokens may make."""
    try:
        return read_json(request).get("operation") == "download"
    except HubError:
        return False


@reads_over_post(when=_batch_downloads)
@hf_endpoint(methods=("POST",))
def batch(request: HttpRequest, namespace: str, name: str, type_prefix: str = "") -> JsonResponse:
    """``POST /[type/]{ns}/{name}.git/info/lfs/objects/batch``, for the HF client and git-lfs alike.

    The HF client asks for ``transfers: ["basic", "multipart"]`` and gets resumable multipart
    uploads for large objects; git-lfs asks for ``basic`` and gets single PUTs. An anonymous caller
    who may not see the repository gets 401 (as for a missing one) so git-lfs asks git for
    credentials, as it must for private repositories.
    """
    body = read_json(request)
    if not isinstance(body.get("objects"), list):
        raise ValidationError("The batch request needs an 'objects' list.")
    operation = value_choice(body, "operation", ("upload", "download"))
    if body.get("hash_algo", "sha256") != "sha256":
        raise ValidationError("Only sha256 objects are supported.")
    # Uploads for a pull request come without a ref (HF_PROTOCOL.md §2.6): readers may propose
    # changes, so they may send objects; only commits to branches need write access.
    ref = (body.get("ref") or {}).get("name") if isinstance(body.get("ref"), dict) else None
    need = Permission.WRITE if operation == "upload" and ref and not ref.startswith("refs/pr/") else Permission.READ
    if operation == "upload" and not request.user.is_authenticated:
        raise Unauthenticated("Log in or pass a token to upload.")
    transfers = body.get("transfers") or ["basic"]
    multipart = isinstance(transfers, list) and "multipart" in transfers
    repo_type = RepoType(type_prefix.rstrip("s")) if type_prefix else RepoType.MODEL
    try:
        repo = access_repo(
            user=request.user, repo_type=repo_type, namespace=namespace, name=name, need=need, token=request.hub_token
        )
        if operation == "download":
            check_can_read_files(user=request.user, repo=repo)
    except (RepoNotFound, GatedRepo):
        if request.user.is_authenticated:
            raise
        return error_response(
            Unauthenticated("Authentication required: a user name and a hub token as the password."),
            headers={"LFS-Authenticate": 'Basic realm="LLM Hub"'},
        )
    answers = []
    for item in body["objects"]:
        if not isinstance(item, dict):
            raise ValidationError("Each object must be {oid, size}.")
        oid, size = item.get("oid"), item.get("size")
        try:
            oid, size = uploads.check_object(oid=oid, size=size)
            present = uploads.repo_has_object(repo=repo, sha256=oid, size=size)
        except HubError as error:
            answers.append({"oid": str(oid), "size": size if isinstance(size, int) else 0,
                            "error": {"code": 422, "message": error.message}})  # fmt: skip
            continue
        if operation == "upload":
            entry = {"oid": oid, "size": size, "authenticated": True}
            if not present:
                entry["actions"] = _object_actions(request, repo, oid, size, multipart=multipart)
        elif present and (quarantine := _quarantine_message(repo, oid)):
            entry = {"oid": oid, "size": size, "error": {"code": 403, "message": quarantine}}
        elif present:
            href = _download_href(request, repo, oid, size)
            entry = {"oid": oid, "size": size, "actions": {"download": {"href": href}}}
        else:
            entry = {"oid": oid, "size": size, "error": {"code": 404, "message": "Object does not exist"}}
        answers.append(entry)
    return _lfs_json({"transfer": "basic", "objects": answers, "hash_algo": "sha256"})


def _download_href(request: HttpRequest, repo: Repo, oid: str, size: int) -> str:
    """Where git-lfs fetches an object: a presigned bucket URL (S3 backend), else the hub's signed URL."""
    if objectstore.redirected_downloads():
        return objectstore.presigned_get(blob_storage_key(oid))
    token = _sign(r=repo.pk, o=oid, s=size)
    return origin(request) + reverse("lfs-object", kwargs={"token": token})


def _quarantine_message(repo: Repo, oid: str) -> str | None:
    """Why the object may not be downloaded (the malware scan quarantined it), or None."""
    try:
        scan_check_servable(repo=repo, sha256=oid)
    except FileQuarantined as error:
        return error.message
    return None


def _signed_repo(payload: dict) -> Repo:
    repo = Repo.objects.filter(pk=payload.get("r")).first()
    if repo is None:
        raise PermissionDenied("The repository of this upload URL no longer exists.")
    return repo


@streams_request_body
@hf_endpoint(methods=("PUT", "GET"))
def object_transfer(request: HttpRequest, token: str) -> HttpResponse:
    """``PUT`` receives a whole object (basic transfer); ``GET`` serves one (LFS downloads)."""
    payload = _unsign(token)
    repo = _signed_repo(payload)
    oid, size = payload["o"], payload["s"]
    if request.method == "PUT":
        uploads.lfs_object_receive(repo=repo, sha256=oid, size=size, stream=request)
        return HttpResponse(status=200)
    # The batch answer checked the repository; a URL signed before it was disabled stops here.
    check_repo_enabled(repo=repo)
    blob = Blob.objects.filter(sha256=oid, repo_links__repo=repo).first()
    if blob is None:
        raise NotFound(f"Object {oid} is not stored in this repository.")
    scan_check_servable(repo=repo, sha256=oid)
    # The whole object; behind nginx a Range header is applied too (a resumed download).
    return stored_file_response(
        blob.storage_key, size=blob.size, start=0, length=blob.size, partial=False,
        content_type="application/octet-stream", client_range=True,
    )  # fmt: skip


@streams_request_body
@hf_endpoint(methods=("PUT",))
def part_upload(request: HttpRequest, token: str) -> HttpResponse:
    payload = _unsign(token)
    session = uploads.upload_session_get(session_id=payload["u"])
    etag = uploads.upload_session_put_part(session=session, number=int(payload["p"]), stream=request)
    response = HttpResponse(status=200)
    response["ETag"] = f'"{etag}"'
    return response


@hf_endpoint(methods=("POST",))
def complete(request: HttpRequest, token: str) -> JsonResponse:
    payload = _unsign(token)
    if "k" in payload:  # parts sent straight to the bucket
        repo = _signed_repo(payload)
        upload = uploads.DirectUpload(key=payload["k"], upload_id=payload["m"], part_count=payload["n"])
        uploads.direct_upload_complete(repo=repo, sha256=payload["o"], size=payload["s"], upload=upload)
        return _lfs_json({"oid": payload["o"], "size": payload["s"]})
    session = uploads.upload_session_get(session_id=payload["u"])
    uploads.upload_session_complete(session=session)
    return _lfs_json({"oid": session.sha256, "size": session.size})


@hf_endpoint(methods=("POST",))
def verify(request: HttpRequest, token: str) -> JsonResponse:
    payload = _unsign(token)
    repo = _signed_repo(payload)
    body = read_json(request, required=False)
    oid, size = payload["o"], payload["s"]
    if body and (body.get("oid") != oid or body.get("size") != size):
        raise ValidationError("The verified object does not match this URL.")
    if "k" in payload:  # sent straight to the bucket: checked and promoted now
        uploads.direct_upload_verify(repo=repo, sha256=oid, size=size, key=payload["k"])
        return _lfs_json({"oid": oid, "size": size})
    if not uploads.repo_has_object(repo=repo, sha256=oid, size=size):
        return error_response(ValidationError(f"Object {oid} was not received; upload it again."))
    return _lfs_json({"oid": oid, "size": size})
