"""One case driven through the real services by random commands, with the invariants checked after every
step: money is conserved, `closed` stays closed, a resolved case never becomes active again, at most one
proposal is accepted, a case goes to mediation at most once and never with an outcome, a ruled outcome is
the last ruling's and every ruling has reasons and a clause of the case's rulebook, the appeal mediator is
never the one who ruled, and the case's event log is gapless and its hash chain verifies.

Every state is reached: open, negotiation, mediation (escalation or a lapsed deadline), settled (a party's
proposal or the mediator's recommendation accepted by both), ruled, appealed, final (on appeal or when
the window passes), withdrawn, closed; ticks run at arbitrary clock times and send 24 h reminders.

Each command is also checked against what the rules say it should do in the case's current state: an
allowed one must succeed, a refused one must raise a DomainError and change nothing at all (case row,
proposals, messages, event log, webhook outbox).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Row, func, select

from mediation import clock
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.models import (
    Appeal,
    Case,
    CaseEvent,
    CaseState,
    Clause,
    Message,
    Platform,
    Proposal,
    ProposalState,
    Rulebook,
    RulebookVersion,
    Ruling,
    User,
    WebhookMessage,
)
from mediation.money import Money
from mediation.services import admin, cases, chain, deadlines, messages, proposals, rulings
from mediation.services.actors import ANONYMOUS, PartyActor, StaffActor
from tests.conftest import PlatformInfo, case_data

ROLES = ("buyer", "seller")
ACTIVE = {CaseState.OPEN, CaseState.NEGOTIATION, CaseState.MEDIATION}
RESOLVED = {CaseState.SETTLED, CaseState.WITHDRAWN, CaseState.FINAL}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MISSING_PROPOSAL = 10**9
VALID_BODIES = ("Where is my parcel?", "line one\nline two\ttabbed", "包裹还没到", "  Tracking: LX123  ")
INVALID_BODIES = ("  ", "bell\x07", "x" * 4001)
LAPSING = {CaseState.OPEN, CaseState.NEGOTIATION}
UNRESOLVED = ACTIVE | {CaseState.RULED, CaseState.APPEALED}
REMINDED = UNRESOLVED
RATIONALES = ("The courier's scan shows delivery to the wrong town.", "Too short.", "")


@dataclass(frozen=True)
class Snapshot:
    """What the database holds about the case: its row, its proposals, and how many events, messages
    and webhook messages it has."""

    case: Row
    proposals: tuple[Row, ...]
    counts: tuple[int, int, int]

    @property
    def state(self) -> CaseState:
        return CaseState(self.case.state)

    def proposal(self, proposal_id: int) -> Row | None:
        return next((p for p in self.proposals if p.id == proposal_id), None)


def new_platform() -> PlatformInfo:
    created = admin.create_platform(f"Platform {secrets.token_hex(6)}")
    return PlatformInfo(created.platform_id, created.api_key, created.webhook_secret)


def new_mediator() -> StaffActor:
    """A mediator row without the cost of hashing a password (nobody signs in here)."""
    user = User(email=f"m-{secrets.token_hex(6)}@example.com", name="Mediator", role="mediator",
                password_hash="!")
    db.session.add(user)
    db.session.commit()
    return StaffActor(user_id=user.id, role="mediator", name=user.name)


def new_rulebook() -> tuple[int, list[int]]:
    """A published rulebook version with two clauses: its rulebook id and clause ids."""
    rulebook = Rulebook(slug=f"rules-{secrets.token_hex(6)}", title={"en": "Rules"})
    version = RulebookVersion(rulebook=rulebook, number=1, published_at=clock.now())
    version.clauses = [Clause(number=str(n), position=n, title={"en": f"Clause {n}"}, body={"en": "Text."})
                       for n in (1, 2)]
    db.session.add(rulebook)
    db.session.commit()
    return rulebook.id, [c.id for c in version.clauses]


def other(role: str) -> str:
    return "seller" if role == "buyer" else "buyer"


class CaseMachine(RuleBasedStateMachine):
    """Expectations and invariants read the database, never the session's cached objects."""

    @initialize(amount=st.integers(1, 100_000), held=st.booleans(), claimant=st.sampled_from(ROLES))
    def a_platform_opens_a_case(self, amount, held, claimant):
        self.now = START
        clock.freeze(self.now)
        platform = new_platform()
        self.foreign_clauses = new_rulebook()[1]  # of a rulebook this case is not decided by
        rulebook_id, self.clauses = new_rulebook()
        db.session.get(Platform, platform.id).rulebook_id = rulebook_id
        db.session.commit()
        data = case_data(amount=Money(amount, "USD"), held_amount=Money(amount, "USD") if held else None,
                         claimant=claimant)
        case = cases.open_case(platform.actor, data).case
        self.case_id, self.claimant = case.id, claimant
        self.amount, self.held = amount, amount if held else None
        self.platform = platform.actor
        self.parties = {p.role: PartyActor(p.id, case.id, p.role, p.name) for p in case.parties}
        self.outsiders = (new_platform().actor, ANONYMOUS,
                          PartyActor(self.parties["buyer"].party_id + 10**6, case.id + 10**6, "buyer"))
        self.mediator = new_mediator()  # the least loaded may be one of an earlier example's
        self.proposal_ids: list[int] = []
        self.was_closed = self.left_active = False
        self.events_seen = 0

    # ---- reading the database --------------------------------------------------------------

    def case(self):
        return db.session.execute(select(
            Case.state, Case.version, Case.deadline_at, Case.resolution, Case.refund_minor,
            Case.release_minor, Case.return_required, Case.execution_reference, Case.closed_at, Case.mediator_id,
            Case.appeal_mediator_id, Case.reminded_for).where(Case.id == self.case_id)).one()

    def proposals(self) -> list:
        return db.session.execute(select(
            Proposal.id, Proposal.state, Proposal.author_role, Proposal.refund_minor, Proposal.release_minor,
            Proposal.expires_at, Proposal.accepted_by)
            .where(Proposal.case_id == self.case_id).order_by(Proposal.id)).all()

    def counts(self) -> tuple[int, int, int]:
        """How many events, messages and webhook messages the case has."""
        def count(model):
            return (select(func.count()).select_from(model).where(model.case_id == self.case_id)
                    .scalar_subquery())

        row = db.session.execute(select(count(CaseEvent), count(Message), count(WebhookMessage))).one()
        return tuple(row)

    def look(self) -> Snapshot:
        return Snapshot(self.case(), tuple(self.proposals()), self.counts())

    # ---- acting ----------------------------------------------------------------------------

    def attempt(self, before: Snapshot, expected: bool, command, *args, **kwargs):
        """Run a service command on the case as it was `before`: it must succeed exactly when
        `expected`, and a refusal must change nothing."""
        try:
            result = command(*args, **kwargs)
        except DomainError as error:
            assert self.look() == before, f"{command.__name__} raised {error!r} and still changed the case"
            assert not expected, f"{command.__name__} was refused: {type(error).__name__}: {error.message}"
            return None
        assert expected, f"{command.__name__}{args} succeeded where the rules refuse it ({before.case})"
        return result

    def pick(self, index: int) -> int:
        """The `index`-th newest proposal of the case; past the oldest, one that does not exist."""
        ids = [*reversed(self.proposal_ids), MISSING_PROPOSAL]
        return ids[min(index, len(ids) - 1)]

    def may_decide(self, now: Snapshot, proposal_id: int, role: str, *, as_author: bool) -> bool:
        """An open, unexpired proposal of an active case: its author may withdraw it, the other side
        may accept or reject it."""
        row = now.proposal(proposal_id)
        if row is None or now.state not in ACTIVE or row.state != ProposalState.OPEN:
            return False
        if row.expires_at <= self.now:
            return False
        if row.author_role == "mediator":  # a recommendation: each party answers once; the mediator withdraws
            return not as_author and role not in row.accepted_by.split(",")
        return row.author_role == (role if as_author else other(role))

    def may_counter(self, now: Snapshot, proposal_id: int | None, role: str) -> bool:
        if proposal_id is None:
            return True
        row = now.proposal(proposal_id)
        return (row is not None and row.state == ProposalState.OPEN and row.expires_at > self.now
                and row.author_role in (other(role), "mediator"))

    def propose(self, role: str, refund: int, release: int, counter_to: int | None) -> None:
        now = self.look()
        expected = now.state in ACTIVE and self.sums_ok(refund, release) and self.may_counter(now, counter_to, role)
        made = self.attempt(now, expected, proposals.create_proposal, self.parties[role], self.case_id,
                            buyer_refund=Money(refund, "USD"), seller_release=Money(release, "USD"),
                            return_required=refund > release, terms="As agreed.", counter_to=counter_to)
        if made is not None:
            self.proposal_ids.append(made.id)

    def split(self, share: float, error: int) -> tuple[int, int]:
        """A refund/release split of the held (else disputed) amount, off by `error` minor units."""
        total = self.held if self.held is not None else self.amount
        refund = round(total * share)
        return refund, max(total - refund + error, 0)

    # ---- rules -----------------------------------------------------------------------------

    @rule(role=st.sampled_from(ROLES), caucus=st.sampled_from((False, False, True)),
          body=st.sampled_from(VALID_BODIES) | st.sampled_from(INVALID_BODIES),
          client_id=st.sampled_from(("c1", "c2", "c3")))
    def a_party_sends_a_message(self, role, caucus, body, client_id):
        channel = f"caucus:{role}" if caucus else "joint"
        now = self.look()
        channel_open = now.state != CaseState.CLOSED and (channel == "joint" or now.state == "mediation")
        self.attempt(now, body in VALID_BODIES and channel_open,
                     messages.send_message, self.parties[role], self.case_id, channel, body, client_id)

    @rule(role=st.sampled_from(ROLES), share=st.floats(0, 1), error=st.sampled_from((0, 0, 0, 0, 1, -1, 999)),
          counter=st.sampled_from((None, None, None, 0, 1, 2)))
    def a_party_proposes(self, role, share, error, counter):
        self.propose(role, *self.split(share, error), None if counter is None else self.pick(counter))

    @precondition(lambda self: self.proposal_ids)
    @rule(share=st.floats(0, 1), error=st.sampled_from((0, 0, 0, 1)))
    def a_party_counters_the_other_sides_latest_proposal(self, share, error):
        latest = self.look().proposal(self.proposal_ids[-1])
        role = "buyer" if latest.author_role == "mediator" else other(latest.author_role)
        self.propose(role, *self.split(share, error), latest.id)

    @precondition(lambda self: self.proposal_ids)
    @rule(role=st.sampled_from(ROLES), index=st.integers(0, 3), accept=st.booleans())
    def a_party_answers_a_proposal(self, role, index, accept):
        proposal_id, now = self.pick(index), self.look()
        command = proposals.accept_proposal if accept else proposals.reject_proposal
        self.attempt(now, self.may_decide(now, proposal_id, role, as_author=False),
                     command, self.parties[role], self.case_id, proposal_id)

    @precondition(lambda self: self.proposal_ids)
    @rule()
    def the_other_side_accepts_the_latest_proposal(self):
        now = self.look()
        latest = now.proposal(self.proposal_ids[-1])
        roles = ROLES if latest.author_role == "mediator" else (other(latest.author_role),)
        for role in roles:
            now = self.look()
            self.attempt(now, self.may_decide(now, latest.id, role, as_author=False), proposals.accept_proposal,
                         self.parties[role], self.case_id, latest.id)

    @precondition(lambda self: self.proposal_ids)
    @rule(role=st.sampled_from(ROLES), index=st.integers(0, 3))
    def a_party_withdraws_a_proposal(self, role, index):
        proposal_id, now = self.pick(index), self.look()
        self.attempt(now, self.may_decide(now, proposal_id, role, as_author=True),
                     proposals.withdraw_proposal, self.parties[role], self.case_id, proposal_id)

    @rule(role=st.sampled_from(ROLES))
    def a_party_withdraws_the_case(self, role):
        now = self.look()
        self.attempt(now, now.state in ACTIVE and role == self.claimant,
                     cases.withdraw_case, self.parties[role], self.case_id, "We sorted it out")

    @rule(reference=st.sampled_from(("PAY-1", "PAY-2")))
    def the_platform_confirms_execution(self, reference):
        now = self.look()
        repeat = now.state == CaseState.CLOSED and now.case.execution_reference == reference
        self.attempt(now, now.state in RESOLVED or repeat,
                     cases.confirm_execution, self.platform, self.case_id, reference)
        if repeat:
            assert self.look() == now, "confirming the same execution again changed the case"

    @rule(who=st.integers(0, 2), what=st.integers(0, 6), index=st.integers(0, 3))
    def an_outsider_tries_a_command(self, who, what, index):
        zero = Money(0, "USD")
        command, args, kwargs = [
            (cases.withdraw_case, ("mine now",), {}),
            (cases.confirm_execution, ("PAY-X",), {}),
            (proposals.accept_proposal, (self.pick(index),), {}),
            (proposals.withdraw_proposal, (self.pick(index),), {}),
            (messages.send_message, ("joint", "hello", "o1"), {}),
            (proposals.create_proposal, (), {"buyer_refund": zero, "seller_release": zero}),
            (deadlines.escalate_case, ("let me in",), {}),
        ][what]
        self.attempt(self.look(), False, command, self.outsiders[who], self.case_id, *args, **kwargs)

    @rule(hours=st.integers(1, 24 * 4))
    def time_passes(self, hours):
        self.now += timedelta(hours=hours)
        clock.freeze(self.now)

    @rule(role=st.sampled_from(ROLES), reason=st.sampled_from(("We cannot agree.", "We cannot agree.", "  ")))
    def a_party_escalates(self, role, reason):
        now = self.look()
        escalated = self.attempt(now, now.state == CaseState.NEGOTIATION and reason.strip() != "",
                                 deadlines.escalate_case, self.parties[role], self.case_id, reason)
        if escalated is not None:
            after = self.case()
            assert after.state == CaseState.MEDIATION and after.resolution is None
            assert after.deadline_at == self.now + timedelta(days=14)

    @rule(hours=st.integers(1, 24 * 8))
    def time_passes_and_the_scheduler_ticks(self, hours):
        self.now += timedelta(hours=hours)
        clock.freeze(self.now)
        before = self.look()
        deadlines.tick()
        after = self.look()
        deadline = before.case.deadline_at
        lapses = before.state in LAPSING and deadline <= self.now
        finalizes = before.state == CaseState.RULED and deadline <= self.now
        reminds = (not lapses and not finalizes and before.state in REMINDED and deadline is not None
                   and self.now < deadline <= self.now + timedelta(hours=24) and before.case.reminded_for != deadline)
        if lapses:
            assert after.state == CaseState.MEDIATION and after.case.resolution is None
            assert after.case.deadline_at == self.now + timedelta(days=14)
        elif finalizes:
            assert after.state == CaseState.FINAL and after.case.resolution == "ruled"
        else:
            assert after.case.state == before.case.state and after.case.deadline_at == deadline
        if reminds:
            assert after.case.reminded_for == deadline, "no reminder 24 h before the deadline"
        for old, new in zip(before.proposals, after.proposals, strict=True):
            lapsed = old.state == ProposalState.OPEN and old.expires_at <= self.now
            assert new.state == (ProposalState.EXPIRED if lapsed else old.state), (old, new)
        if not (lapses or finalizes or reminds) and after.proposals == before.proposals:
            assert after == before, "a tick with nothing due changed the case"

    def staff(self, who: str, now: Snapshot) -> StaffActor:
        """The case's mediator, its appeal mediator, or a mediator who is neither."""
        user_id = {"mediator": now.case.mediator_id, "appeal": now.case.appeal_mediator_id}.get(who)
        return StaffActor(user_id=user_id if user_id is not None else 10**6, role="mediator")

    @rule(who=st.sampled_from(("mediator", "mediator", "appeal", "stranger")), share=st.floats(0, 1),
          error=st.sampled_from((0, 0, 0, 1)))
    def a_mediator_recommends_a_settlement(self, who, share, error):
        now = self.look()
        refund, release = self.split(share, error)
        expected = (who == "mediator" and now.case.mediator_id is not None and now.state == CaseState.MEDIATION
                    and self.sums_ok(refund, release))
        made = self.attempt(now, expected, proposals.recommend_settlement, self.staff(who, now), self.case_id,
                            buyer_refund=Money(refund, "USD"), seller_release=Money(release, "USD"))
        if made is not None:
            self.proposal_ids.append(made.id)

    @rule(who=st.sampled_from(("mediator", "mediator", "appeal", "stranger")), share=st.floats(0, 1),
          error=st.sampled_from((0, 0, 0, 1)), rationale=st.sampled_from(RATIONALES),
          cite=st.sampled_from(("own", "own", "foreign", "none")))
    def a_mediator_rules(self, who, share, error, rationale, cite):
        now = self.look()
        refund, release = self.split(share, error)
        clauses = {"own": self.clauses[:1], "foreign": self.foreign_clauses[:1], "none": []}[cite]
        expected = (who == "mediator" and now.case.mediator_id is not None and now.state == CaseState.MEDIATION
                    and self.sums_ok(refund, release) and len(rationale) >= 20 and cite == "own")
        outcome = rulings.Outcome(Money(refund, "USD"), Money(release, "USD"))
        ruled = self.attempt(now, expected, rulings.issue_ruling, self.staff(who, now), self.case_id, outcome,
                             rationale, clauses)
        if ruled is not None:
            after = self.case()
            assert after.state == CaseState.RULED and after.resolution is None
            assert after.deadline_at == self.now + timedelta(days=5)

    @rule(role=st.sampled_from(ROLES), grounds=st.sampled_from(RATIONALES))
    def a_party_appeals(self, role, grounds):
        now = self.look()
        expected = (now.state == CaseState.RULED and self.now < now.case.deadline_at and len(grounds) >= 20)
        if self.attempt(now, expected, rulings.appeal_ruling, self.parties[role], self.case_id, grounds):
            after = self.case()
            assert after.state == CaseState.APPEALED and after.appeal_mediator_id != after.mediator_id

    @rule(who=st.sampled_from(("appeal", "appeal", "mediator", "stranger")),
          decision=st.sampled_from(("uphold", "replace", "overturn")), share=st.floats(0, 1),
          error=st.sampled_from((0, 0, 1)), rationale=st.sampled_from(RATIONALES))
    def the_appeal_mediator_decides(self, who, decision, share, error, rationale):
        now = self.look()
        appeal_id = db.session.scalar(select(func.max(Appeal.id)).where(Appeal.case_id == self.case_id)) or 10**9
        refund, release = self.split(share, error)
        expected = (who == "appeal" and now.case.appeal_mediator_id is not None and now.state == CaseState.APPEALED
                    and decision in ("uphold", "replace") and len(rationale) >= 20
                    and (decision == "uphold" or self.sums_ok(refund, release)))
        outcome = rulings.Outcome(Money(refund, "USD"), Money(release, "USD")) if decision == "replace" else None
        if self.attempt(now, expected, rulings.decide_appeal, self.staff(who, now), self.case_id, appeal_id,
                        decision, rationale, self.clauses[1:], outcome):
            after = self.case()
            assert after.state == CaseState.FINAL and after.resolution == "ruled"

    # The same commands with sound input, where they apply: random input alone seldom gets a case that far.

    @precondition(lambda self: self.case().state == CaseState.MEDIATION)
    @rule(share=st.floats(0, 1))
    def the_case_mediator_rules_soundly(self, share):
        self.a_mediator_rules("mediator", share, 0, RATIONALES[0], "own")

    @precondition(lambda self: self.case().state == CaseState.RULED)
    @rule(role=st.sampled_from(ROLES))
    def a_party_appeals_soundly(self, role):
        self.a_party_appeals(role, RATIONALES[0])

    @precondition(lambda self: self.case().state == CaseState.APPEALED)
    @rule(decision=st.sampled_from(("uphold", "replace")), share=st.floats(0, 1))
    def the_appeal_mediator_decides_soundly(self, decision, share):
        self.the_appeal_mediator_decides("appeal", decision, share, 0, RATIONALES[0])

    def sums_ok(self, refund: int, release: int) -> bool:
        total = refund + release
        return total == self.held if self.held is not None else total <= self.amount

    @rule(assigned=st.sampled_from((True, True, True, False)), days=st.sampled_from((1, 7, 30, 0, 31)),
          reason=st.sampled_from(("The courier needs time.", "")))
    def a_mediator_extends_the_deadline(self, assigned, days, reason):
        now = self.look()
        on_case = now.case.mediator_id
        if assigned and on_case is not None:
            mediator = StaffActor(user_id=on_case, role="mediator")
        else:  # a mediator who is not on this case
            mediator = StaffActor(user_id=(on_case or 0) + 10**6, role="mediator")
        expected = (mediator.user_id == on_case and now.state == CaseState.MEDIATION and 1 <= days <= 30
                    and reason != "")
        extended = self.attempt(now, expected, deadlines.extend_deadline, mediator, self.case_id, days, reason)
        if extended is not None:
            after = self.case()
            assert after.deadline_at == now.case.deadline_at + timedelta(days=days)
            assert after.state == now.state

    # ---- invariants ------------------------------------------------------------------------

    @invariant()
    def the_case_keeps_its_invariants(self):
        row, proposal_rows = self.case(), self.proposals()
        self.check_money_is_conserved(row)
        self.check_closed_stays_closed_and_resolved_never_reopens(CaseState(row.state))
        self.check_at_most_one_accepted_proposal_and_it_is_the_outcome(row, proposal_rows)
        self.check_mediation_is_entered_once_and_never_decides_by_itself(row)
        self.check_the_event_log_is_gapless_and_its_chain_verifies()
        self.check_a_ruled_outcome_is_the_last_rulings_and_every_ruling_has_reasons(row)

    def check_money_is_conserved(self, row):
        if row.resolution is None:
            assert row.state in UNRESOLVED, f"a {row.state} case has no outcome"
            return
        assert row.refund_minor >= 0 and row.release_minor >= 0
        total = row.refund_minor + row.release_minor
        if self.held is not None:
            assert total == self.held, f"refund + release = {total}, held {self.held}"
        else:
            assert total <= self.amount

    def check_closed_stays_closed_and_resolved_never_reopens(self, state: CaseState):
        if self.was_closed:
            assert state == CaseState.CLOSED
        if self.left_active:
            assert state not in ACTIVE, f"the case went back to {state}"
        self.was_closed |= state == CaseState.CLOSED
        self.left_active |= state not in ACTIVE

    def check_at_most_one_accepted_proposal_and_it_is_the_outcome(self, row, proposal_rows):
        accepted = [p for p in proposal_rows if p.state == ProposalState.ACCEPTED]
        assert len(accepted) <= 1
        if row.resolution == "settled":
            outcome = (row.refund_minor, row.release_minor)
            assert [(p.refund_minor, p.release_minor) for p in accepted] == [outcome]
        else:
            assert not accepted
        if row.state not in ACTIVE:
            assert all(p.state != ProposalState.OPEN for p in proposal_rows), "a proposal outlived the case"

    def check_mediation_is_entered_once_and_never_decides_by_itself(self, row):
        escalations = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == self.case_id, CaseEvent.type == "case.escalated"))
        assert escalations <= 1, "the case went to mediation twice"
        if row.state == CaseState.MEDIATION:
            assert escalations == 1 and row.resolution is None and row.deadline_at is not None

    def check_the_event_log_is_gapless_and_its_chain_verifies(self):
        seqs = db.session.scalars(select(CaseEvent.seq).where(CaseEvent.case_id == self.case_id)
                                  .order_by(CaseEvent.seq)).all()
        assert seqs == list(range(1, len(seqs) + 1))
        assert len(seqs) >= self.events_seen
        self.events_seen = len(seqs)
        report = chain.verify_case(self.case_id)
        assert report.ok, report.problem
        assert report.events == len(seqs)

    def check_a_ruled_outcome_is_the_last_rulings_and_every_ruling_has_reasons(self, row):
        ruling_rows = db.session.scalars(select(Ruling).where(Ruling.case_id == self.case_id)
                                         .order_by(Ruling.id)).all()
        for ruling in ruling_rows:
            assert len(ruling.rationale) >= 20 and ruling.clauses
            assert {c.id for c in ruling.clauses} <= set(self.clauses), "a ruling cites a foreign clause"
            if ruling.kind == "appeal":
                appealed = db.session.scalar(select(Appeal).where(Appeal.decision_id == ruling.id))
                assert appealed.ruling.mediator_id != ruling.mediator_id, "a mediator decided their own appeal"
        if row.resolution == "ruled":
            last = ruling_rows[-1]
            assert (row.refund_minor, row.release_minor) == (last.refund_minor, last.release_minor)
        if row.state in (CaseState.RULED, CaseState.APPEALED):
            assert ruling_rows and row.resolution is None

    def teardown(self):
        db.session.rollback()
        clock.freeze(None)


def test_a_case_driven_by_random_commands_keeps_its_invariants(app):
    run_state_machine_as_test(CaseMachine, settings=settings(
        max_examples=50, stateful_step_count=35, deadline=None, suppress_health_check=[HealthCheck.too_slow]))
