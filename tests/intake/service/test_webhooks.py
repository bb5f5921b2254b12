import base64
import json

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from intake.core.errors import ConfigError
from intake.service.webhooks import check_url_allowed, signed_headers

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def test_signature_verifies_with_standardwebhooks() -> None:
    body = json.dumps({"id": "o1", "lines": [{"sku": "A", "quantity": 2}]})
    import time

    ts = int(time.time())
    h = signed_headers(SECRET, "msg_o1_v1", ts, body)
    assert Webhook(SECRET).verify(body, h) == json.loads(body)
    tampered = body.replace('"quantity": 2', '"quantity": 20')
    with pytest.raises(Exception):
        Webhook(SECRET).verify(tampered, h)


def test_internal_addresses_need_the_allow_list() -> None:
    check_url_allowed("http://127.0.0.1:9/hook", "127.0.0.1")
    with pytest.raises(ConfigError, match="internal address"):
        check_url_allowed("http://10.1.2.3/hook", "127.0.0.1,localhost")
    with pytest.raises(ConfigError):
        check_url_allowed("ftp://example.com/x", "*")
    check_url_allowed("http://10.1.2.3/hook", "*")


def test_mock_transport_roundtrip() -> None:
    seen = {}

    def handler(req: httpx.Request) -> httpx.Response:
        seen["h"] = dict(req.headers)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as c:
        c.post("http://x/", content=b"{}", headers=signed_headers(SECRET, "m", 1, "{}"))
    assert seen["h"]["webhook-id"] == "m"
