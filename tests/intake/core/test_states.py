import itertools

import pytest

from intake.core.errors import InvalidTransition
from intake.core.states import ALLOWED, TERMINAL, OrderStatus, check_transition

EXPECTED = {
    ("RECEIVED", "EXTRACTED"), ("RECEIVED", "FAILED"), ("RECEIVED", "REJECTED"),
    ("EXTRACTED", "MATCHED"), ("EXTRACTED", "FAILED"), ("EXTRACTED", "REJECTED"),
    ("MATCHED", "NEEDS_REVIEW"), ("MATCHED", "APPROVED"), ("MATCHED", "DUPLICATE"), ("MATCHED", "FAILED"),
    ("MATCHED", "REJECTED"),
    ("NEEDS_REVIEW", "MATCHED"), ("NEEDS_REVIEW", "APPROVED"), ("NEEDS_REVIEW", "REJECTED"),
    ("NEEDS_REVIEW", "DUPLICATE"),
    ("APPROVED", "DELIVERED"),
    ("DUPLICATE", "NEEDS_REVIEW"),
    ("FAILED", "RECEIVED"), ("FAILED", "REJECTED"),
}


@pytest.mark.parametrize("frm,to", list(itertools.product(OrderStatus, OrderStatus)))
def test_every_pair_of_the_table(frm: OrderStatus, to: OrderStatus) -> None:
    if (frm.value, to.value) in EXPECTED:
        check_transition(frm, to)
    else:
        with pytest.raises(InvalidTransition) as exc:
            check_transition(frm, to)
        assert frm.value in str(exc.value) and to.value in str(exc.value)


def test_terminal_states() -> None:
    assert TERMINAL == {OrderStatus.DELIVERED, OrderStatus.REJECTED}
    assert set(ALLOWED) == set(OrderStatus)
