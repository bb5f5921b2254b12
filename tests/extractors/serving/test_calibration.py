"""The calibration inference applies (extractors/serving/calibration.py)."""

from __future__ import annotations

import json

from extractors.serving.calibration import Calibration


def test_no_calibration_is_the_identity_and_a_map_is_read_back_as_written() -> None:
    assert Calibration.from_json(None) == Calibration() and Calibration()("field", 0.37) == 0.37
    cal = Calibration(temperature=1.7, maps={"field": ([0.2, 0.6, 0.9], [0.1, 0.5, 0.95])})
    back = Calibration.from_json(json.loads(json.dumps(cal.to_json())))
    assert back == cal
    assert back("field", 0.6) == 0.5 and back("field", 0.0) == 0.1 and back("field", 1.0) == 0.95
    assert back("field", 0.75) == 0.725  # linear between the knots
    assert back("line", 0.42) == 0.42  # no map for lines: the raw score
