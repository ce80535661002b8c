"""The work-order state machine: every pair of statuses, allowed or refused with a reason."""

from __future__ import annotations

import itertools

import pytest

from dispatch_app.domain.vocabulary import WorkOrderStatus
from dispatch_app.domain.work_order_status import (
    next_statuses,
    status_problem,
    transition_problem,
)

# Written out by hand, independently of the module's table: what the office may do.
ALLOWED = {
    ("new", "scheduled"),
    ("new", "cancelled"),
    ("scheduled", "dispatched"),
    ("scheduled", "en_route"),
    ("scheduled", "on_site"),
    ("scheduled", "new"),
    ("scheduled", "no_show"),
    ("scheduled", "cancelled"),
    ("dispatched", "en_route"),
    ("dispatched", "on_site"),
    ("dispatched", "scheduled"),
    ("dispatched", "no_show"),
    ("dispatched", "cancelled"),
    ("en_route", "on_site"),
    ("en_route", "dispatched"),
    ("en_route", "no_show"),
    ("en_route", "cancelled"),
    ("on_site", "completed"),
    ("on_site", "en_route"),
    ("on_site", "cancelled"),
    ("completed", "invoiced"),
    ("completed", "on_site"),
    ("invoiced", "closed"),
    ("cancelled", "new"),
    ("cancelled", "scheduled"),
    ("no_show", "new"),
    ("no_show", "scheduled"),
}
STATUSES = [status.value for status in WorkOrderStatus]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_pair_is_allowed_or_refused_with_a_sentence(current, target):
    problem = status_problem(current, target)
    if (current, target) in ALLOWED:
        assert problem is None
        assert target in next_statuses(current)
    else:
        assert problem is not None and problem.endswith(".")
        assert target not in next_statuses(current)


def test_the_sentences_name_the_trouble():
    assert status_problem("closed", "new") == (
        "A closed work order cannot change; open a new one for more work."
    )
    assert status_problem("invoiced", "cancelled") == "An invoiced work order can only be closed."
    assert status_problem("on_site", "no_show") == (
        "A work order that is on site cannot become no-show."
    )
    assert status_problem("new", "new") == "The work order is already new."
    assert status_problem("bogus", "new") == "'bogus' is not a work order status."


@pytest.mark.parametrize("target", ["cancelled", "no_show"])
def test_ending_early_needs_a_usable_reason(target):
    assert transition_problem("scheduled", target, None) is not None
    assert transition_problem("scheduled", target, "   ") is not None
    assert transition_problem("scheduled", target, "bad\x00reason") is not None
    assert transition_problem("scheduled", target, "x" * 501) is not None
    assert transition_problem("scheduled", target, "Customer sold the house — Zoë") is None


def test_other_changes_need_no_reason():
    assert transition_problem("completed", "invoiced", None) is None


def test_an_unknown_status_has_no_menu():
    with pytest.raises(ValueError, match="unknown work order status"):
        next_statuses("archived")
