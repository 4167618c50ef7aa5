"""A real S3-compatible service for tests and benchmarks: moto's server mode in a subprocess on a free
port, a bucket in it, and the settings that point the hub's ``blobs`` storage at it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import httpx

from benchmarks.hubserver import free_port
from tests.support.processes import stop_process

ACCESS_KEY = "hub-test-key"
SECRET_KEY = "hub-test-secret"
REGION = "us-east-1"


@dataclass
class S3Service:
    endpoint_url: str
    bucket: str

    def client(self):
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        )  # fmt: skip

    def keys(self, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return [
            item["Key"]
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
            for item in page.get("Contents", ())
        ]

    def read(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def hub_env(self) -> dict[str, str]:
        """The environment that puts a hub's blobs in this bucket (config/settings/storage.py)."""
        return {
            "HUB_S3_BUCKET": self.bucket, "HUB_S3_ENDPOINT_URL": self.endpoint_url, "HUB_S3_REGION": REGION,
            "HUB_S3_ACCESS_KEY_ID": ACCESS_KEY, "HUB_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }  # fmt: skip

    def storages_setting(self, storages: dict) -> dict:
        """``STORAGES`` with ``blobs`` in this bucket, for a test's in-process settings."""
        options = {
            "bucket_name": self.bucket, "endpoint_url": self.endpoint_url, "region_name": REGION,
            "access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "addressing_style": "path",
            "signature_version": "s3v4", "file_overwrite": True, "default_acl": None,
        }  # fmt: skip
        return {**storages, "blobs": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}}


@contextlib.contextmanager
def moto_s3(bucket: str = "hub-blobs") -> Iterator[S3Service]:
    """moto's S3 server on a free loopback port, with ``bucket`` created, for the block's duration."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(url + "/moto-api/", timeout=1)
                break
            if process.poll() is not None:
                raise RuntimeError("moto's server exited at start")
            time.sleep(0.1)
        else:
            raise RuntimeError("moto's server did not start")
        service = S3Service(endpoint_url=url, bucket=bucket)
        service.client().create_bucket(Bucket=bucket)
        yield service
    finally:
        stop_process(process)
