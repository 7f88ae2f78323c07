"""The guidance for a case against the hand-worked past cases of tests/guidance/conftest.py."""
from __future__ import annotations

from mediation.services import guidance
from mediation.services.guidance import Guidance


def figures(found: Guidance) -> dict:
    return {"scope": found.scope, "cases": found.cases, "settled_rate": found.settled_rate,
            "median_buyer_share": found.median_buyer_share, "full": found.full_refund_rate,
            "partial": found.partial_refund_rate, "release": found.release_rate, "median_days": found.median_days}


def test_a_case_gets_the_figures_of_its_reason_on_its_own_marketplace(past_cases, alpha):
    info = past_cases.open(alpha, "damaged", "03-20 09:00")
    found = guidance.guidance_for(info.actor("buyer"), info.id)
    # The five Alpha damaged cases; the withdrawn one and Beta's are left out.
    assert figures(found) == {
        "scope": "platform", "cases": 5,
        "settled_rate": 0.6,  # 3 settled of 5
        "median_buyer_share": 0.6,  # 0 .4 [.6] 1 1
        "full": 0.4, "partial": 0.4, "release": 0.2,  # 1 1 | .4 .6 | 0
        "median_days": 3.0,  # 1 2 [3] 5 6
    }
    assert found.in_progress


def test_a_marketplace_with_too_few_cases_falls_back_to_every_marketplace(past_cases, beta):
    info = past_cases.open(beta, "damaged", "03-20 09:00")
    found = guidance.guidance_for(info.actor("seller"), info.id)
    # Beta has three damaged cases; all eight damaged cases count.
    assert figures(found) == {
        "scope": "all_platforms", "cases": 8,
        "settled_rate": 0.75,  # 6 settled of 8
        "median_buyer_share": 0.2,  # 0 0 0 [0 .4] .6 1 1
        "full": 0.25, "partial": 0.25, "release": 0.5,
        "median_days": 1.5,  # 1 1 1 [1 2] 3 5 6
    }


def test_a_reason_with_fewer_than_five_cases_everywhere_is_too_few_and_shows_no_count(past_cases, alpha):
    info = past_cases.open(alpha, "counterfeit", "03-20 09:00")  # two counterfeit cases on each marketplace
    found = guidance.guidance_for(info.actor("buyer"), info.id)
    assert figures(found) == {"scope": "too_few", "cases": None, "settled_rate": None, "median_buyer_share": None,
                              "full": None, "partial": None, "release": None, "median_days": None}
    assert not found.enough


def test_a_reason_nobody_has_disputed_yet_is_too_few(past_cases, alpha):
    info = past_cases.open(alpha, "unauthorized", "03-20 09:00")
    assert guidance.guidance_for(info.actor("buyer"), info.id).scope == "too_few"


def test_a_resolved_case_is_left_out_of_its_own_guidance(past_cases, alpha):
    info = past_cases.settle(alpha, "damaged", "100.00", "03-20 09:00", "03-21 09:00")
    found = guidance.guidance_for(info.actor("buyer"), info.id)
    # Six Alpha damaged cases are resolved now; the case's own guidance counts the other five.
    assert (found.scope, found.cases, found.median_days) == ("platform", 5, 3.0)
    assert not found.in_progress

