"""Layout fingerprints and the router's choice (extractors/serving/router.py): a corrected
layout's other documents reach the threshold, other layouts' documents do not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.extractors.serving.layouts import heldout_layouts


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    return heldout_layouts(tmp_path_factory.mktemp("layouts"))


def test_fingerprints_tell_a_corrected_layout_from_other_layouts(layouts: dict[str, list[Any]]) -> None:
    from extractors.serving.router import DEFAULT_THRESHOLD, Router, fingerprint, similarity

    fams = [k for k in layouts if k != "mail"]
    fps = {f: [fingerprint(d) for d in layouts[f]] for f in fams}
    # one document against one: same layout more alike than different layouts
    same = [similarity(a, b) for f in fams for i, a in enumerate(fps[f]) for b in fps[f][i + 1:]]
    diff = [similarity(a, b) for f in fams for g in fams if f < g for a in fps[f] for b in fps[g]]
    assert min(same) > 0 and sum(same) / len(same) > 2 * sum(diff) / len(diff)
    # a router from three corrected documents of a layout: the layout's other documents reach
    # the threshold, no document of another layout does
    for f in fams:
        r = Router(fps[f][:3], DEFAULT_THRESHOLD)
        assert len(r.layouts) == 1 and len(r.layouts[0]["documents"]) == 3
        for d in layouts[f][3:]:
            assert r.to_specialist(d), (f, r.score(d))
        for g in fams:
            if g != f:
                assert max(r.score(d)[0] for d in layouts[g]) < DEFAULT_THRESHOLD
    # a spreadsheet never matches a PDF; mail bodies have no layout and are never routed
    pdf = fps[fams[0]][0]
    assert similarity(pdf, {**pdf, "kind": "xlsx"}) == 0.0
    mail = layouts["mail"][0]
    r = Router([fingerprint(mail)] + [fingerprint(d) for d in layouts["mail"]])
    assert r.layouts == [] and not r.to_specialist(mail)


def test_unrelated_corrected_documents_stay_separate_layouts(layouts: dict[str, list[Any]]) -> None:
    from extractors.serving.router import Router, fingerprint

    fams = [k for k in layouts if k != "mail"]
    r = Router([fingerprint(layouts[f][0], f) for f in fams] + [fingerprint(layouts[fams[0]][1], "second")])
    # the two documents of the first family make one layout; the others stand alone
    assert sorted(len(lay["documents"]) for lay in r.layouts) == [1, 1, 2]
