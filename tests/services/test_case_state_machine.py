"""One case driven through the real services by random commands, with the invariants checked after every
step: money is conserved, `closed` stays closed, a resolved case never becomes active again, at most one
proposal is accepted, and the case's event log is gapless and its hash chain verifies.

Each command is also checked against what the rules say it should do in the case's current state: an
allowed one must succeed, a refused one must raise a DomainError and change nothing at all.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from mediation import clock
from mediation.errors import DomainError
from mediation.extensions import db
from mediation.models import Case, CaseEvent, CaseState, Message, Proposal, ProposalState, WebhookMessage
from mediation.money import Money
from mediation.services import cases, chain, messages, proposals
from mediation.services.actors import ANONYMOUS, PartyActor, PlatformActor
from tests.conftest import case_data

ROLES = ("buyer", "seller")
ACTIVE = {CaseState.OPEN, CaseState.NEGOTIATION, CaseState.MEDIATION}
RESOLVED = {CaseState.SETTLED, CaseState.WITHDRAWN, CaseState.FINAL}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MISSING_PROPOSAL = 10**9
BODIES = ("Where is my parcel?", "line one\nline two", "包裹还没到", "Tracking: LX123", "  ", "bell\x07", "x" * 4001)


def other(role: str) -> str:
    return "seller" if role == "buyer" else "buyer"


def build_machine(make_platform):
    class CaseMachine(RuleBasedStateMachine):
        """Invariants are checked against the database, never against the session's cached objects."""

        @initialize(amount=st.integers(1, 100_000), held=st.booleans(), claimant=st.sampled_from(ROLES))
        def open_a_case(self, amount, held, claimant):
            self.now = START
            clock.freeze(self.now)
            platform = make_platform()
            data = case_data(amount=Money(amount, "USD"), held_amount=Money(amount, "USD") if held else None,
                             claimant=claimant)
            case = cases.open_case(platform.actor, data).case
            self.case_id, self.amount, self.held = case.id, amount, amount if held else None
            self.claimant = claimant
            self.platform = platform.actor
            self.parties = {p.role: PartyActor(p.id, case.id, p.role, p.name) for p in case.parties}
            self.outsiders = [PlatformActor(make_platform().id), ANONYMOUS,
                              PartyActor(self.parties["buyer"].party_id + 10**6, case.id + 10**6, "buyer")]
            self.proposal_ids: list[int] = []
            self.left_active = False
            self.was_closed = False
            self.events_seen = 0

        # ---- reading the database --------------------------------------------------------------

        def case(self):
            return db.session.execute(select(
                Case.state, Case.version, Case.deadline_at, Case.resolution, Case.refund_minor,
                Case.release_minor, Case.execution_reference, Case.closed_at).where(Case.id == self.case_id)).one()

        def proposal(self, proposal_id: int):
            return db.session.execute(select(
                Proposal.case_id, Proposal.author_role, Proposal.state, Proposal.expires_at)
                .where(Proposal.id == proposal_id)).one_or_none()

        def proposals(self) -> list:
            return db.session.execute(select(
                Proposal.id, Proposal.state, Proposal.author_role, Proposal.refund_minor, Proposal.release_minor)
                .where(Proposal.case_id == self.case_id).order_by(Proposal.id)).all()

        def count(self, model) -> int:
            return db.session.scalar(select(func.count()).select_from(model).where(model.case_id == self.case_id))

        def snapshot(self) -> tuple:
            return (tuple(self.case()), tuple(map(tuple, self.proposals())), self.count(CaseEvent),
                    self.count(Message), self.count(WebhookMessage))

        def attempt(self, expected: bool, command, *args, **kwargs):
            """Run a service command; it must succeed exactly when `expected`, and a refusal changes nothing."""
            before = self.snapshot()
            try:
                result = command(*args, **kwargs)
            except DomainError as error:
                event(f"{command.__name__}: {type(error).__name__}")
                assert self.snapshot() == before, f"{command.__name__} raised {error!r} yet changed the case"
                assert not expected, f"{command.__name__} was refused: {type(error).__name__}: {error.message}"
                return None
            event(f"{command.__name__}: done")
            assert expected, f"{command.__name__} succeeded where the rules refuse it (case was {before[0]})"
            return result

        def pick(self, index: int) -> int:
            """The `index`-th newest proposal of the case; past the oldest, one that does not exist."""
            ids = [*reversed(self.proposal_ids), MISSING_PROPOSAL]
            return ids[min(index, len(ids) - 1)]

        def is_active(self) -> bool:
            return self.case().state in ACTIVE

        def answerable(self, proposal_id: int, role: str, *, author: bool) -> bool:
            """An open, unexpired proposal of this active case, for its author or for the side it asks."""
            row = self.proposal(proposal_id)
            if row is None or not self.is_active() or row.state != ProposalState.OPEN:
                return False
            if row.expires_at <= self.now:
                return False
            return (row.author_role == role) if author else (row.author_role == other(role))

        # ---- rules -----------------------------------------------------------------------------

        @rule(role=st.sampled_from(ROLES), caucus=st.sampled_from((False, False, False, True)), body=st.sampled_from(BODIES),
              client_id=st.sampled_from(("c1", "c2", "c3")))
        def a_party_sends_a_message(self, role, caucus, body, client_id):
            channel = f"caucus:{role}" if caucus else "joint"
            state = self.case().state
            valid_body = bool(body.strip()) and "\x07" not in body and len(body.strip()) <= 4000
            channel_open = state != CaseState.CLOSED and (channel == "joint" or state == CaseState.MEDIATION)
            self.attempt(valid_body and channel_open, messages.send_message, self.parties[role], self.case_id,
                         channel, body, client_id)

        @rule(role=st.sampled_from(ROLES), share=st.floats(0, 1), error=st.sampled_from((0, 0, 0, 1, -1, 250)),
              counter=st.none() | st.integers(0, 4))
        def a_party_proposes(self, role, share, error, counter):
            total = self.held if self.held is not None else self.amount
            refund = round(total * share)
            release = max(total - refund + error, 0)
            counter_to = None if counter is None else self.pick(counter)
            sums_ok = (refund + release == self.held) if self.held is not None else (refund + release <= self.amount)
            counter_ok = counter_to is None or self._counterable(counter_to, role)
            made = self.attempt(self.is_active() and sums_ok and counter_ok, proposals.create_proposal,
                                self.parties[role], self.case_id, buyer_refund=Money(refund, "USD"),
                                seller_release=Money(release, "USD"), terms="split", counter_to=counter_to)
            if made is not None:
                self.proposal_ids.append(made.id)

        def _counterable(self, proposal_id: int, role: str) -> bool:
            row = self.proposal(proposal_id)
            return row is not None and row.state == ProposalState.OPEN and row.author_role == other(role)

        @precondition(lambda self: self.proposal_ids)
        @rule(role=st.sampled_from(ROLES), index=st.integers(0, 4), accept=st.booleans())
        def a_party_answers_a_proposal(self, role, index, accept):
            proposal_id = self.pick(index)
            command = proposals.accept_proposal if accept else proposals.reject_proposal
            self.attempt(self.answerable(proposal_id, role, author=False), command, self.parties[role],
                         self.case_id, proposal_id)

        @precondition(lambda self: self.proposal_ids)
        @rule(role=st.sampled_from(ROLES), index=st.integers(0, 4))
        def a_party_withdraws_a_proposal(self, role, index):
            proposal_id = self.pick(index)
            self.attempt(self.answerable(proposal_id, role, author=True), proposals.withdraw_proposal,
                         self.parties[role], self.case_id, proposal_id)

        @rule(role=st.sampled_from(ROLES))
        def a_party_withdraws_the_case(self, role):
            self.attempt(self.is_active() and role == self.claimant, cases.withdraw_case, self.parties[role],
                         self.case_id, "We sorted it out")

        @rule(reference=st.sampled_from(("PAY-1", "PAY-2")))
        def the_platform_confirms_execution(self, reference):
            row = self.case()
            repeat = row.state == CaseState.CLOSED and row.execution_reference == reference
            before = self.snapshot()
            self.attempt(row.state in RESOLVED or repeat, cases.confirm_execution, self.platform, self.case_id,
                         reference)
            if repeat:
                assert self.snapshot() == before, "repeating the execution reference changed the case"

        @rule(who=st.integers(0, 2), what=st.integers(0, 4), index=st.integers(0, 4))
        def an_outsider_tries_a_command(self, who, what, index):
            actor = self.outsiders[who]
            money = Money(0, "USD")
            command, args = [
                (cases.withdraw_case, ("mine now",)),
                (cases.confirm_execution, ("PAY-X",)),
                (proposals.accept_proposal, (self.pick(index),)),
                (messages.send_message, ("joint", "hello", "o1")),
                (proposals.create_proposal, ()),
            ][what]
            kwargs = {"buyer_refund": money, "seller_release": money} if command is proposals.create_proposal else {}
            self.attempt(False, command, actor, self.case_id, *args, **kwargs)

        @rule(hours=st.integers(1, 24 * 8))
        def time_passes(self, hours):
            self.now += timedelta(hours=hours)
            clock.freeze(self.now)

        # ---- invariants ------------------------------------------------------------------------

        @invariant()
        def money_is_conserved(self):
            row = self.case()
            if row.resolution is None:
                assert row.state in ACTIVE
                return
            total = row.refund_minor + row.release_minor
            assert row.refund_minor >= 0 and row.release_minor >= 0
            if self.held is not None:
                assert total == self.held
            else:
                assert total <= self.amount

        @invariant()
        def closed_stays_closed_and_a_resolved_case_never_becomes_active_again(self):
            state = self.case().state
            if self.was_closed:
                assert state == CaseState.CLOSED
            if self.left_active:
                assert state not in ACTIVE
            self.was_closed |= state == CaseState.CLOSED
            self.left_active |= state not in ACTIVE

        @invariant()
        def at_most_one_proposal_is_accepted_and_it_is_the_outcome(self):
            row = self.case()
            accepted = [p for p in self.proposals() if p.state == ProposalState.ACCEPTED]
            assert len(accepted) <= 1
            if row.resolution == "settled":
                assert len(accepted) == 1
                assert (accepted[0].refund_minor, accepted[0].release_minor) == (row.refund_minor, row.release_minor)
            else:
                assert not accepted

        @invariant()
        def no_proposal_stays_open_once_the_case_is_resolved(self):
            if not self.is_active():
                assert all(p.state != ProposalState.OPEN for p in self.proposals())

        @invariant()
        def the_event_log_is_gapless_only_grows_and_its_chain_verifies(self):
            seqs = db.session.scalars(select(CaseEvent.seq).where(CaseEvent.case_id == self.case_id)
                                      .order_by(CaseEvent.seq)).all()
            assert seqs == list(range(1, len(seqs) + 1))
            assert len(seqs) >= self.events_seen
            self.events_seen = len(seqs)
            report = chain.verify_case(self.case_id)
            assert report.ok, report.problem
            assert report.events == len(seqs)

        def teardown(self):
            event(f"the case ended {self.case().state}")
            db.session.rollback()
            clock.freeze(None)

    return CaseMachine


def test_a_case_driven_by_random_commands_keeps_its_invariants(app, make_platform):
    machine = build_machine(make_platform)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=30, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
