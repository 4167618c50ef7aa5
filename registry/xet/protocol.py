"""Protocol constants and the token answer of ``GET /api/{type}s/{ns}/{name}/xet-{read|write}-token/{rev}``."""

from dataclasses import dataclass

# The dedup prefix the client puts in xorb and chunk paths: ``/v1/xorbs/default/{hash}``.
XORB_PREFIX = "default"

# ``POST /v1/shards`` answers ``{"result": SHARD_RESULT_SYNCED}`` (or ``..._EXISTS`` for a repeat).
SHARD_RESULT_EXISTS = 0
SHARD_RESULT_SYNCED = 1

HEADER_CAS_URL = "X-Xet-Cas-Url"
HEADER_ACCESS_TOKEN = "X-Xet-Access-Token"
HEADER_TOKEN_EXPIRATION = "X-Xet-Token-Expiration"


@dataclass(frozen=True)
class XetTokenGrant:
    """A CAS access token as the token endpoint hands it out.

    The answer must carry it twice: ``huggingface_hub`` reads the headers to seed downloads, and
    ``hf_xet`` reads the JSON body whenever it fetches or refreshes a token itself (all uploads).
    ``cas_url`` may carry a path prefix; the client appends ``/v1/...`` to it, so it must not end
    with a slash.
    """

    access_token: str
    expires_at: int  # unix seconds; the client refreshes 30-60 s before
    cas_url: str

    def __post_init__(self) -> None:
        if self.cas_url.endswith("/"):
            raise ValueError(f"cas_url must not end with '/': {self.cas_url!r}")

    def headers(self) -> dict[str, str]:
        return {
            HEADER_CAS_URL: self.cas_url,
            HEADER_ACCESS_TOKEN: self.access_token,
            HEADER_TOKEN_EXPIRATION: str(self.expires_at),
        }

    def body(self) -> dict[str, str | int]:
        return {"accessToken": self.access_token, "exp": self.expires_at, "casUrl": self.cas_url}
