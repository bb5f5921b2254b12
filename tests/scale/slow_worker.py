"""`intake worker` whose match stage costs ``INTAKE_TEST_STAGE_COST_S`` seconds more per order.

The cost is a sleep: it stands for a stage bound by something other than this machine's CPU
(a model on an accelerator, a remote service), so the scaling test measures how the work is
distributed over workers and not how busy the shared test machine's two cores are. Everything
else is the real worker: broker, tasks, ledger.

    python -m tests.scale.slow_worker worker --pool solo
"""

from __future__ import annotations

import os
import time
from typing import Any

from intake.service.pipeline import Pipeline

_COST = float(os.environ.get("INTAKE_TEST_STAGE_COST_S", "0"))
_match = Pipeline.match_order


def _slow_match(self: Pipeline, order_id: str, *args: Any, **kwargs: Any) -> None:
    time.sleep(_COST)
    _match(self, order_id, *args, **kwargs)


Pipeline.match_order = _slow_match  # type: ignore[method-assign]

if __name__ == "__main__":
    from intake.entry.cli import main

    main()
