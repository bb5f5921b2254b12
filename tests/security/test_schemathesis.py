"""schemathesis against the OpenAPI spec, in-process on the ASGI app with a valid API key: no 5xx,
responses of the documented content type and matching their documented schema. Bounded examples
per operation so the whole run stays well under a minute."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from intake.service import ledger
from intake.entry.api.app import create_app
from intake.service.db import unit_of_work
from intake.core.domain import Channel
from intake.core.settings import Settings
from tests.scale.harness import SECRET, x12_order

_DIR = Path(tempfile.mkdtemp(prefix="intake-schemathesis-"))
APP = create_app(Settings(data_dir=_DIR / "data", database_url=f"sqlite:///{_DIR / 'ledger.db'}",
                          webhook_url="http://127.0.0.1:9/hook", webhook_secret=SECRET), start_workers=False)
with unit_of_work(APP.state.services.pipeline.sm) as _s:
    KEY = ledger.create_api_key(_s, "schemathesis")
_res = APP.state.services.pipeline.ingest(x12_order("PO-ST-1", 3), filename="po.edi", channel=Channel.upload)
APP.state.services.pipeline.process_message(_res.message_id)  # one real order for the routes to find

AUTH = {"Authorization": f"Bearer {KEY}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers=AUTH)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_spec(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=AUTH, checks=[not_a_server_error, content_type_conformance,
                                                 response_schema_conformance])
