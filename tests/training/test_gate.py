"""The promotion gate (training/gate.py): not worse on any frozen folder nor for any customer;
a routed candidate must also be better for one. Its report carries live and candidate figures."""

from __future__ import annotations

import json

from training.gate import GateReport, corrections_gate, corrections_not_worse, frozen_gate


def test_gate_refuses_a_candidate_worse_on_any_frozen_figure() -> None:
    live = {"synth": {"header_f1": 0.90, "line_f1": 0.80}, "docs": {"header_f1": 0.7, "line_f1": 0.7}}
    same = json.loads(json.dumps(live))
    rep = frozen_gate(live, same)
    assert (rep.passed, rep.reasons) == (True, [])
    worse = json.loads(json.dumps(live))
    worse["docs"]["line_f1"] = 0.69
    rep = frozen_gate(live, worse)
    assert not rep.passed and rep.reasons == ["frozen set docs: line_f1 0.6900 < live 0.7000"]
    assert [y.worse for y in rep.yardsticks] == [(), ("line_f1",)]
    assert frozen_gate(live, worse, tolerance=0.02).passed
    better_but_missing = {"synth": {"header_f1": 1.0, "line_f1": 1.0}}
    rep = frozen_gate(live, better_but_missing)
    assert not rep.passed and rep.reasons == ["frozen set docs: candidate not evaluated"]


def test_corrections_gate_needs_a_gain_and_no_loss() -> None:
    live = {"C-1": {"header_f1": 0.5, "line_f1": 0.4}, "C-2": {"header_f1": 0.9, "line_f1": 0.9}}
    assert corrections_gate(live, {"C-1": {"header_f1": 0.9, "line_f1": 0.8},
                                   "C-2": {"header_f1": 0.9, "line_f1": 0.9}}).passed
    rep = corrections_gate(live, json.loads(json.dumps(live)))
    assert not rep.passed and rep.reasons == ["reads no customer's corrections better than live"]
    rep = corrections_gate(live, {"C-1": {"header_f1": 1.0, "line_f1": 1.0}, "C-2": {"header_f1": 0.8, "line_f1": 0.9}})
    assert not rep.passed and rep.reasons == ["corrections of C-2: header_f1 0.8000 < live 0.9000"]


def test_reports_add_up_and_carry_each_fields_figures() -> None:
    live = {"synth": {"header_f1": 0.9, "line_f1": 0.8, "fields": {"po_number": 1.0, "total": 0.5}}}
    cand = {"synth": {"header_f1": 0.95, "line_f1": 0.8, "fields": {"po_number": 1.0, "total": 0.75}}}
    frozen = frozen_gate(live, cand)
    held = corrections_not_worse({"C-1": {"header_f1": 0.5, "line_f1": 0.5}},
                                 {"C-1": {"header_f1": 0.4, "line_f1": 0.5}}, held={"C-1": True})
    both = frozen + held
    assert isinstance(both, GateReport) and frozen.passed and not held.passed and not both.passed
    assert both.reasons == ["corrections of C-1 (held out): header_f1 0.4000 < live 0.5000"]
    js = both.to_json()
    assert [y["name"] for y in js["yardsticks"]] == ["frozen set synth", "corrections of C-1 (held out)"]
    assert js["yardsticks"][0]["header_f1"] == {"live": 0.9, "candidate": 0.95}
    assert js["yardsticks"][0]["fields"]["total"] == {"live": 0.5, "candidate": 0.75}
    assert js["yardsticks"][1]["worse"] == ["header_f1"]
    assert json.loads(json.dumps(js)) == js
