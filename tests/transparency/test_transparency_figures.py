"""The transparency figures against the hand-computed record of tests/transparency/conftest.py.

Every expected number is worked out in the comments from the table in `hand_computed_cases`.
"""
from __future__ import annotations

from fractions import Fraction

from mediation.services import transparency
from mediation.services.transparency import MEASURES


def group(report, dimension: str, key: str):
    return next(g for g in report.groups[dimension] if g.key == key)


def hidden_everywhere() -> dict:
    return dict.fromkeys(MEASURES)


def test_all_resolved_cases_add_up_to_the_hand_computed_totals(hand_computed_cases):
    assert group(transparency.report(), "overall", "all").figures == {
        "cases": 14, "settled": 6, "ruled": 8, "withdrawn": 2,
        "settled_rate": 0.4286,  # 6 / 14
        "full_refund": 6,  # S1 S3 S5 R2 R3 U3
        "partial_refund": 5,  # S2 S6 R1 R4 U1
        "release_to_seller": 3,  # S4 R5 U2
        "median_buyer_share": 0.65,  # 0 0 0 .2 .4 .5 [.6 .7] 1 1 1 1 1 1
        "appealed": 5, "appeal_rate": 0.625,  # R1..R5 of 8 rulings
        "overturned": 2, "overturn_rate": 0.4,  # R2 and R4 of 5 appeals
        "median_days": 12.5,  # 1 1.5 2 2 3 4 [10 15] 16 21 24 24 26 26
        "p90_days": 25.4,  # rank .9 × 13 = 11.7: 24 + .7 × (26 − 24)
    }


def test_a_reason_with_five_resolved_cases_shows_its_hand_computed_figures(hand_computed_cases):
    # S1 S2 R1 R2 U1 (W1 counted as withdrawn only); three rulings are too few for an appeal rate.
    assert group(transparency.report(), "reason", "damaged").figures == {
        "cases": 5, "settled": 2, "ruled": 3, "withdrawn": 1, "settled_rate": 0.4,
        "full_refund": 2, "partial_refund": 3, "release_to_seller": 0,
        "median_buyer_share": 0.7,  # .4 .6 [.7] 1 1
        "appealed": None, "appeal_rate": None, "overturned": None, "overturn_rate": None,
        "median_days": 10.0,  # 1.5 3 [10] 15 26
        "p90_days": 21.6,  # rank 3.6: 15 + .6 × 11
    }


def test_a_reason_of_only_full_refunds_and_releases_has_no_partial_refunds(hand_computed_cases):
    # S3 S4 R3 R5 U3.
    assert group(transparency.report(), "reason", "not_received").figures == {
        "cases": 5, "settled": 2, "ruled": 3, "withdrawn": 0, "settled_rate": 0.4,
        "full_refund": 3, "partial_refund": 0, "release_to_seller": 2,
        "median_buyer_share": 1.0,  # 0 0 [1] 1 1
        "appealed": None, "appeal_rate": None, "overturned": None, "overturn_rate": None,
        "median_days": 16.0,  # 2 4 [16] 24 26
        "p90_days": 25.2,  # rank 3.6: 24 + .6 × 2
    }


def test_a_reason_with_four_resolved_cases_is_hidden_not_zero(hand_computed_cases):
    counterfeit = group(transparency.report(), "reason", "counterfeit")  # S5 S6 R4 U2, and W2 withdrawn
    assert counterfeit.hidden
    assert counterfeit.figures == hidden_everywhere()


def test_every_reason_is_listed_even_without_cases(hand_computed_cases):
    report = transparency.report()
    assert [g.key for g in report.groups["reason"]] == [
        "not_received", "not_as_described", "damaged", "counterfeit", "unauthorized", "other"]
    assert group(report, "reason", "other").figures == hidden_everywhere()


def test_each_marketplace_shows_its_hand_computed_figures_under_its_name(hand_computed_cases):
    report = transparency.report()
    # Alpha: S1 S2 S3 R1 R2 R3 U1 U3; five rulings give an appeal rate, three appeals no overturn rate.
    assert group(report, "platform", "Alpha Market").figures == {
        "cases": 8, "settled": 3, "ruled": 5, "withdrawn": 1, "settled_rate": 0.375,
        "full_refund": 5, "partial_refund": 3, "release_to_seller": 0,
        "median_buyer_share": 1.0,  # .4 .6 .7 [1 1] 1 1 1
        "appealed": 3, "appeal_rate": 0.6, "overturned": None, "overturn_rate": None,
        "median_days": 12.5,  # 1.5 2 3 [10 15] 16 26 26
        "p90_days": 26.0,  # rank 6.3: 26 + .3 × 0
    }
    # Beta: S4 S5 S6 R4 R5 U2; the CNY case counts by its share (150 of 300), not its amount.
    assert group(report, "platform", "Beta Bazaar").figures == {
        "cases": 6, "settled": 3, "ruled": 3, "withdrawn": 1, "settled_rate": 0.5,
        "full_refund": 1, "partial_refund": 2, "release_to_seller": 3,
        "median_buyer_share": 0.1,  # 0 0 [0 .2] .5 1
        "appealed": None, "appeal_rate": None, "overturned": None, "overturn_rate": None,
        "median_days": 12.5,  # 1 2 [4 21] 24 24
        "p90_days": 24.0,  # rank 4.5: 24 + .5 × 0
    }


def test_each_month_counts_the_cases_resolved_in_it(hand_computed_cases):
    report = transparency.report()
    assert [g.key for g in report.groups["month"]] == ["2026-03", "2026-04"]
    # March: S1..S6, R1, R2 (and W1, W2).
    assert group(report, "month", "2026-03").figures == {
        "cases": 8, "settled": 6, "ruled": 2, "withdrawn": 2, "settled_rate": 0.75,
        "full_refund": 4, "partial_refund": 3, "release_to_seller": 1,
        "median_buyer_share": 0.8,  # 0 .4 .5 [.6 1] 1 1 1
        "appealed": None, "appeal_rate": None, "overturned": None, "overturn_rate": None,
        "median_days": 2.5,  # 1 1.5 2 [2 3] 4 10 15
        "p90_days": 11.5,  # rank 6.3: 10 + .3 × 5
    }
    # April: R3 R4 R5 U1 U2 U3.
    assert group(report, "month", "2026-04").figures == {
        "cases": 6, "settled": 0, "ruled": 6, "withdrawn": 0, "settled_rate": 0.0,
        "full_refund": 2, "partial_refund": 2, "release_to_seller": 2,
        "median_buyer_share": 0.45,  # 0 0 [.2 .7] 1 1
        "appealed": 3, "appeal_rate": 0.5, "overturned": None, "overturn_rate": None,
        "median_days": 24.0,  # 16 21 [24 24] 26 26
        "p90_days": 26.0,  # rank 4.5: 26 + .5 × 0
    }


def test_a_month_between_two_with_cases_is_listed_as_hidden(case_maker, alpha):
    for day in range(2, 7):
        case_maker.settle(alpha, "damaged", "100.00", f"03-{day:02d} 09:00", f"03-{day:02d} 10:00")
        case_maker.settle(alpha, "damaged", "100.00", f"05-{day:02d} 09:00", f"05-{day:02d} 10:00")
    months = transparency.report().groups["month"]
    assert [(g.key, g.hidden) for g in months] == [("2026-03", False), ("2026-04", True), ("2026-05", False)]


def test_with_no_resolved_case_every_figure_is_hidden(app):
    report = transparency.report()
    assert report.groups["overall"][0].figures == hidden_everywhere()
    assert report.groups["platform"] == [] and report.groups["month"] == []


def test_the_90th_percentile_interpolates_between_ranks():
    values = [Fraction(n) for n in (1, 2, 3, 4, 10)]
    assert transparency.percentile(values, 90) == Fraction(76, 10)  # rank 3.6: 4 + .6 × 6
    assert transparency.percentile(values, 50) == 3
    assert transparency.percentile([Fraction(7)], 90) == 7
