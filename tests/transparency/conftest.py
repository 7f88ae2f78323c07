"""Cases that ended in every way there is, made through the real services at set times, so that the
transparency figures can be checked against numbers worked out by hand (see `hand_computed_cases`)."""
from __future__ import annotations

import pytest

from tests.conftest import PlatformInfo
from tests.transparency.support import CaseMaker, make_case_maker, settle_five_and_four


@pytest.fixture
def case_maker(frozen_clock, make_case, make_rulebook, make_user) -> CaseMaker:
    return make_case_maker(frozen_clock, make_case, make_rulebook, make_user)


@pytest.fixture
def alpha(make_platform) -> PlatformInfo:
    return make_platform("Alpha Market")


@pytest.fixture
def beta(make_platform) -> PlatformInfo:
    return make_platform("Beta Bazaar")


@pytest.fixture
def hand_computed_cases(case_maker, alpha, beta) -> CaseMaker:
    """Fourteen resolved cases, two withdrawn, two not yet resolved (all at 09:00 UTC, 100.00 USD unless said).

    | case | platform | reason       | how it ended                  | buyer share | opened | resolved | days |
    | S1   | Alpha    | damaged      | settled                       | 1.0         | 03-02  | 03-03 21h| 1.5  |
    | S2   | Alpha    | damaged      | settled                       | 0.4         | 03-02  | 03-05    | 3    |
    | S3   | Alpha    | not_received | settled                       | 1.0         | 03-03  | 03-05    | 2    |
    | S4   | Beta     | not_received | settled                       | 0.0         | 03-04  | 03-08    | 4    |
    | S5   | Beta     | counterfeit  | settled                       | 1.0         | 03-10  | 03-11    | 1    |
    | S6   | Beta     | counterfeit  | settled (300.00 CNY, 150 back)| 0.5         | 03-12  | 03-14    | 2    |
    | R1   | Alpha    | damaged      | ruled 60, appeal upheld       | 0.6         | 03-02  | 03-12    | 10   |
    | R2   | Alpha    | damaged      | ruled 0, replaced by 100      | 1.0         | 03-05  | 03-20    | 15   |
    | R3   | Alpha    | not_received | ruled 100, appeal upheld      | 1.0         | 03-06  | 04-01    | 26   |
    | R4   | Beta     | counterfeit  | ruled 50, replaced by 20      | 0.2         | 03-09  | 04-02    | 24   |
    | R5   | Beta     | not_received | ruled 0, appeal upheld        | 0.0         | 03-10  | 04-03    | 24   |
    | U1   | Alpha    | damaged      | ruled 70, not appealed        | 0.7         | 03-15  | 04-10    | 26   |
    | U2   | Beta     | counterfeit  | ruled 0, not appealed         | 0.0         | 03-20  | 04-10    | 21   |
    | U3   | Alpha    | not_received | ruled 100, not appealed       | 1.0         | 03-25  | 04-10    | 16   |
    | W1   | Alpha    | damaged      | withdrawn                     | —           | 03-03  | 03-04    | —    |
    | W2   | Beta     | counterfeit  | withdrawn                     | —           | 03-15  | 03-16    | —    |
    | O1   | Alpha    | damaged      | still open                    |             | 04-11  |          |      |
    | O2   | Beta     | not_received | ruled, appeal window open     |             | 04-11  |          |      |
    """
    make = case_maker
    make.settle(alpha, "damaged", "100.00", "03-02 09:00", "03-03 21:00")
    make.settle(alpha, "damaged", "40.00", "03-02 09:00", "03-05 09:00")
    make.settle(alpha, "not_received", "100.00", "03-03 09:00", "03-05 09:00")
    make.settle(beta, "not_received", "0.00", "03-04 09:00", "03-08 09:00")
    make.settle(beta, "counterfeit", "100.00", "03-10 09:00", "03-11 09:00")
    make.settle(beta, "counterfeit", "150.00", "03-12 09:00", "03-14 09:00", amount="300.00", currency="CNY")
    make.appeal(alpha, "damaged", "60.00", "03-02 09:00", "03-12 09:00")
    make.appeal(alpha, "damaged", "0.00", "03-05 09:00", "03-20 09:00", replaced_by="100.00")
    make.appeal(alpha, "not_received", "100.00", "03-06 09:00", "04-01 09:00")
    make.appeal(beta, "counterfeit", "50.00", "03-09 09:00", "04-02 09:00", replaced_by="20.00")
    make.appeal(beta, "not_received", "0.00", "03-10 09:00", "04-03 09:00")
    make.rule(alpha, "damaged", "70.00", "03-15 09:00")
    make.rule(beta, "counterfeit", "0.00", "03-20 09:00")
    make.rule(alpha, "not_received", "100.00", "03-25 09:00")
    make.withdraw(alpha, "damaged", "03-03 09:00", "03-04 09:00")
    make.withdraw(beta, "counterfeit", "03-15 09:00", "03-16 09:00")
    make.finalize_unappealed("04-10 09:00")
    make.open(alpha, "damaged", "04-11 09:00")
    make.rule(beta, "not_received", "30.00", "04-11 09:00")
    return make


@pytest.fixture
def five_and_four(case_maker, alpha) -> CaseMaker:
    """Nine cases settled on Alpha Market in March 2026: five about damaged items, four about counterfeits."""
    settle_five_and_four(case_maker, alpha)
    return case_maker
