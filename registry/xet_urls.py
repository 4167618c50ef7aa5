"""Routes of Xet storage, mounted at the root by ``config.urls`` before the file routes.

The hub-side token routes sit beside the other repository routes under ``/api/``; the CAS under
``/xet`` (``registry.hf.xet.CAS_PATH``, a reserved first-level name). ``/v1/telemetry`` is where
the client reports transfer statistics, on the hub's origin rather than under the CAS URL.
"""

from django.urls import path, re_path

from registry.hf import xet

_REPO = r"api/(?P<plural>models|datasets|tutorials|spaces|kernels)/(?P<namespace>[^/]+)/(?P<name>[^/]+)"
_HASH = r"(?P<{}>[0-9a-fA-F]{{64}})"

urlpatterns = [
    re_path(rf"^{_REPO}/xet-write-token/(?P<revision>.+)$", xet.write_token, name="xet-write-token"),
    re_path(rf"^{_REPO}/xet-read-token/(?P<revision>.+)$", xet.read_token, name="xet-read-token"),
    re_path(rf"^xet/v1/xorbs/(?P<prefix>[^/]+)/{_HASH.format('xorb_hash')}$", xet.xorb_upload, name="xet-xorb"),
    path("xet/v1/shards", xet.shard_upload, name="xet-shards"),
    re_path(rf"^xet/v1/reconstructions/{_HASH.format('file_hash')}$", xet.reconstruction, name="xet-reconstruction"),
    path("xet/data/<str:token>", xet.xorb_data, name="xet-data"),
    path("xet/v1/telemetry", xet.telemetry),
    path("v1/telemetry", xet.telemetry, name="xet-telemetry"),
    path("xet/<path:rest>", xet.not_implemented, name="xet-not-implemented"),
]
