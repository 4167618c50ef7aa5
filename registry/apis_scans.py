"""REST API of malware scans (``/api/v1/repos/{types}/{ns}/{name}/…``):

* ``GET scans/{revision}``: the scan status of a commit and of each scanned file;
* ``POST quarantine/release``: the owner releases a quarantined file (``confirm`` after the warning).

Conversions to safetensors open pull requests, so their API lives in ``community.apis``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from common.timefmt import iso_z
from registry.access import Permission
from registry.apis import RepoApiView, _repo
from registry.selectors.revisions import revision_resolve
from registry.selectors.scans import tree_scan_status
from registry.services.scans import scan_release
from registry.trees import tree_files


class FileScanSerializer(serializers.Serializer):
    path = serializers.CharField()
    state = serializers.CharField()
    quarantined = serializers.BooleanField()
    released = serializers.BooleanField()
    scanner = serializers.CharField()
    scanner_version = serializers.CharField()
    findings = serializers.ListField(child=serializers.DictField())
    issues = serializers.ListField(child=serializers.CharField())
    scanned_at = serializers.CharField(allow_null=True)


class ScanStatusSerializer(serializers.Serializer):
    commit = serializers.CharField()
    state = serializers.CharField(help_text="pending, clean, suspicious, dangerous or error: the worst file.")
    scans_done = serializers.BooleanField()
    files = FileScanSerializer(many=True)


class ScanStatusApi(RepoApiView):
    """The scan status of the commit ``revision`` resolves to, with every scanned file."""

    @extend_schema(responses=ScanStatusSerializer)
    def get(self, request, types: str, namespace: str, name: str, revision: str):
        repo = _repo(request, types, namespace, name)
        commit = revision_resolve(repo=repo, revision=revision).commit
        files = tree_files(commit.tree_oid)
        found = tree_scan_status(repo=repo, tree_oid=commit.tree_oid, files=files)
        rows = [
            {
                "path": path,
                "state": scan.state,
                "quarantined": scan.quarantined,
                "released": scan.released,
                "scanner": scan.scan.scanner,
                "scanner_version": scan.scan.scanner_version,
                "findings": scan.scan.findings,
                "issues": scan.scan.issues,
                "scanned_at": iso_z(scan.scan.scanned_at) if scan.scan.scanned_at else None,
            }
            for path, scan in found.files
        ]
        body = {"commit": commit.oid, "state": found.state, "scans_done": found.done, "files": rows}
        return Response(ScanStatusSerializer(body).data)


class ReleaseOutputSerializer(serializers.Serializer):
    path = serializers.CharField()
    sha256 = serializers.CharField(source="blob.sha256")
    released_by = serializers.CharField(source="released_by.username", allow_null=True)
    reason = serializers.CharField()
    created_at = serializers.SerializerMethodField()

    def get_created_at(self, obj) -> str:
        return iso_z(obj.created_at)


class QuarantineReleaseApi(RepoApiView):
    """The repository's owner serves a quarantined file again, explicitly and on record."""

    class InputSerializer(serializers.Serializer):
        path = serializers.CharField(max_length=1024)
        revision = serializers.CharField(max_length=255, required=False, default="")
        reason = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)
        confirm = serializers.BooleanField(help_text="True: you read the scan's warning and release the file.")

    @extend_schema(request=InputSerializer, responses={201: ReleaseOutputSerializer})
    def post(self, request, types: str, namespace: str, name: str):
        repo = _repo(request, types, namespace, name, need=Permission.ADMIN)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        release = scan_release(
            repo=repo,
            user=request.user,
            revision=values["revision"] or repo.default_branch,
            path=values["path"],
            reason=values["reason"],
            confirm=values["confirm"],
        )
        return Response(ReleaseOutputSerializer(release).data, status=status.HTTP_201_CREATED)
