"""Opening and ending cases at set moments through the real services, for the transparency figures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from mediation.extensions import db
from mediation.models import Case
from mediation.money import Money
from mediation.services import cases, deadlines, messages, proposals, rulings
from mediation.services.actors import StaffActor
from mediation.services.rulings import Outcome
from tests.conftest import CaseInfo, PlatformInfo, money

RATIONALE = "The record shows what was delivered and what the listing promised."


def when(text: str) -> datetime:
    """'03-02 09:00' -> that moment of 2026, UTC."""
    return datetime.strptime(f"2026-{text}", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


@dataclass
class CaseMaker:
    """Opens cases at a given moment and ends them at another, each through the service a person would use."""

    clock: object
    make_case: object
    rulebook: object
    mediators: dict[int, StaffActor]

    def at(self, moment: str) -> None:
        self.clock.move(seconds=(when(moment) - self.clock.at).total_seconds())

    def open(self, platform: PlatformInfo, reason: str, opened: str, amount: str = "100.00",
             currency: str = "USD") -> CaseInfo:
        self.at(opened)
        value = money(amount, currency)
        return self.make_case(platform=platform, reason=reason, amount=value, held_amount=value)

    def settle(self, platform: PlatformInfo, reason: str, refund: str, opened: str, resolved: str,
               amount: str = "100.00", currency: str = "USD") -> CaseInfo:
        """The seller offers `refund` and the buyer accepts it at `resolved`."""
        info = self.open(platform, reason, opened, amount, currency)
        seller, buyer = info.actor("seller"), info.actor("buyer")
        self.at(resolved)
        offer = proposals.create_proposal(seller, info.id, **_split(info, refund))
        proposals.accept_proposal(buyer, info.id, offer.id)
        return info

    def rule(self, platform: PlatformInfo, reason: str, refund: str, opened: str) -> tuple[CaseInfo, StaffActor]:
        """Escalated and ruled at once, at `opened`; the appeal window then runs for five days."""
        info = self.open(platform, reason, opened)
        messages.send_message(info.actor("seller"), info.id, "joint", "I shipped it.", f"c-{info.id}")
        case = deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")
        mediator = self.mediators[case.mediator_id]
        rulings.issue_ruling(mediator, info.id, _outcome(info, refund), RATIONALE, self.rulebook.clause_ids[:1])
        return info, mediator

    def appeal(self, platform: PlatformInfo, reason: str, refund: str, opened: str, decided: str,
               replaced_by: str | None = None) -> CaseInfo:
        """Ruled at `opened`, appealed by the seller at once, upheld (or replaced) at `decided`."""
        info, _mediator = self.rule(platform, reason, refund, opened)
        appeal = rulings.appeal_ruling(info.actor("seller"), info.id, "The ruling ignores the tracking record.")
        self.at(decided)
        second = self.mediators[db.session.get(Case, info.id).appeal_mediator_id]
        decision, outcome = ("replace", _outcome(info, replaced_by)) if replaced_by else ("uphold", None)
        rulings.decide_appeal(second, info.id, appeal.id, decision, RATIONALE, self.rulebook.clause_ids[:1], outcome)
        return info

    def withdraw(self, platform: PlatformInfo, reason: str, opened: str, withdrawn: str) -> CaseInfo:
        info = self.open(platform, reason, opened)
        buyer = info.actor("buyer")
        self.at(withdrawn)
        cases.withdraw_case(buyer, info.id, "We sorted it out ourselves.")
        return info

    def finalize_unappealed(self, moment: str) -> None:
        """The scheduler's tick after every appeal window has passed."""
        self.at(moment)
        deadlines.tick()


def _split(info: CaseInfo, refund: str) -> dict:
    case = db.session.get(Case, info.id)
    given = money(refund, case.currency)
    return {"buyer_refund": given, "seller_release": Money(case.held_minor - given.minor, case.currency)}


def _outcome(info: CaseInfo, refund: str) -> Outcome:
    split = _split(info, refund)
    return Outcome(split["buyer_refund"], split["seller_release"])


def make_case_maker(frozen_clock, make_case, make_rulebook, make_user) -> CaseMaker:
    """Three mediators (a ruling and its appeal always find two), rules published before any case opens."""
    frozen_clock.move(days=-1)
    rulebook = make_rulebook()
    staff = [make_user("mediator") for _ in range(3)]
    return CaseMaker(frozen_clock, make_case, rulebook, {m.user_id: m for m in staff})


def settle_five_and_four(make: CaseMaker, platform: PlatformInfo) -> None:
    """Five damaged-item cases settled in March 2026 (1.0, 0.5, 0.5, 0.0, 1.0 of the amount back; 1 day each)
    and four counterfeit ones (full refunds, 2 days each)."""
    for day, refund in zip((2, 3, 4, 5, 6), ("100.00", "50.00", "50.00", "0.00", "100.00"), strict=True):
        make.settle(platform, "damaged", refund, f"03-{day:02d} 09:00", f"03-{day + 1:02d} 09:00")
    for day in (2, 3, 4, 5):
        make.settle(platform, "counterfeit", "100.00", f"03-{day:02d} 09:00", f"03-{day + 2:02d} 09:00")
