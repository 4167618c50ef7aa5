"""The token answer, read back by huggingface_hub's own parser."""

import pytest
from huggingface_hub.utils._xet import parse_xet_connection_info_from_headers

from registry.xet.protocol import XetTokenGrant

GRANT = XetTokenGrant(access_token="tok-123", expires_at=1_900_000_000, cas_url="https://hub.example/xet-cas")


def test_headers_and_body():
    assert GRANT.headers() == {
        "X-Xet-Cas-Url": "https://hub.example/xet-cas",
        "X-Xet-Access-Token": "tok-123",
        "X-Xet-Token-Expiration": "1900000000",
    }
    assert GRANT.body() == {"accessToken": "tok-123", "exp": 1_900_000_000, "casUrl": "https://hub.example/xet-cas"}


def test_huggingface_hub_parses_the_headers():
    info = parse_xet_connection_info_from_headers(GRANT.headers())
    assert info is not None
    assert (info.endpoint, info.access_token, info.expiration_unix_epoch) == (
        "https://hub.example/xet-cas",
        "tok-123",
        1_900_000_000,
    )


def test_cas_url_must_not_end_with_a_slash():
    with pytest.raises(ValueError, match="must not end with '/'"):
        XetTokenGrant(access_token="t", expires_at=1, cas_url="https://hub.example/")
