"""Past cases made through the real services at set times, so the guidance can be checked against figures
worked out by hand (see `past_cases`)."""
from __future__ import annotations

import pytest

from tests.transparency import conftest as transparency
from tests.transparency.support import CaseMaker

# The same case maker and marketplaces as the transparency tests.
case_maker, alpha, beta = transparency.case_maker, transparency.alpha, transparency.beta


@pytest.fixture
def past_cases(case_maker, alpha, beta) -> CaseMaker:
    """Eight resolved damaged-item cases (five on Alpha), one withdrawn, four counterfeit ones in all
    (all 100.00 USD, at 09:00 UTC); the clock ends at 03-20 09:00.

    | platform | reason      | how it ended        | buyer share | opened | resolved | days |
    | Alpha    | damaged     | settled             | 1.0         | 03-02  | 03-03    | 1    |
    | Alpha    | damaged     | settled             | 0.4         | 03-02  | 03-05    | 3    |
    | Alpha    | damaged     | settled             | 0.0         | 03-03  | 03-05    | 2    |
    | Alpha    | damaged     | ruled, not appealed | 0.6         | 03-04  | 03-10    | 6    |
    | Alpha    | damaged     | ruled, not appealed | 1.0         | 03-05  | 03-10    | 5    |
    | Alpha    | damaged     | withdrawn           | —           | 03-06  | 03-07    | —    |
    | Beta     | damaged     | settled             | 0.0         | 03-02  | 03-03    | 1    |
    | Beta     | damaged     | settled             | 0.0         | 03-03  | 03-04    | 1    |
    | Beta     | damaged     | settled             | 0.0         | 03-04  | 03-05    | 1    |
    | Alpha    | counterfeit | settled             | 1.0         | 03-06  | 03-07    | 1    |
    | Alpha    | counterfeit | settled             | 1.0         | 03-07  | 03-08    | 1    |
    | Beta     | counterfeit | settled             | 1.0         | 03-06  | 03-07    | 1    |
    | Beta     | counterfeit | settled             | 1.0         | 03-07  | 03-08    | 1    |
    """
    make = case_maker
    make.settle(alpha, "damaged", "100.00", "03-02 09:00", "03-03 09:00")
    make.settle(alpha, "damaged", "40.00", "03-02 09:00", "03-05 09:00")
    make.settle(alpha, "damaged", "0.00", "03-03 09:00", "03-05 09:00")
    make.rule(alpha, "damaged", "60.00", "03-04 09:00")
    make.rule(alpha, "damaged", "100.00", "03-05 09:00")
    make.withdraw(alpha, "damaged", "03-06 09:00", "03-07 09:00")
    for day in (2, 3, 4):
        make.settle(beta, "damaged", "0.00", f"03-{day:02d} 09:00", f"03-{day + 1:02d} 09:00")
    for platform in (alpha, beta):
        make.settle(platform, "counterfeit", "100.00", "03-06 09:00", "03-07 09:00")
        make.settle(platform, "counterfeit", "100.00", "03-07 09:00", "03-08 09:00")
    make.finalize_unappealed("03-10 09:00")
    make.at("03-20 09:00")
    return make
