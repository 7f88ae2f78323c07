"""Random and malformed events against the live room: wrong types, missing and extra fields, bodies around
and beyond the length limit, payloads that are not one object, several arguments, unknown event names
(the server-only `connect` and `disconnect` too), other cases' ids, channels that do not exist or are the
other party's caucus; sent by a party of the case and by an outsider (a party of another case).

For every event: a command's ack is ok or an error ack with a 4xx code (never 500, never silence), an
unknown event's ack carries nothing, nothing is ever served in a case or channel the sender may not use,
a refused event changes nothing in the database, only a served `send` adds a message (one), and the
connection still answers a valid event afterwards.

Frames over the engine's 64 KiB and the rate limit are tested in test_socket_limits.py; here the limit
is lifted so every example reaches the payload checks.
"""
from __future__ import annotations

import string

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Message
from mediation.services import messages
from tests.realtime.conftest import database_rows
from tests.realtime.room_client import RoomClient

COMMANDS = ("join", "send", "typing", "read")
NOT_COMMANDS = ("connect", "disconnect", "message", "case_event", "presence", "error", "_join", "on_join",
                "trigger_event", "JOIN", "join ", "")
CHANNELS = ("joint", "caucus:buyer", "caucus:seller", "caucus:mediator", "private", "case:1", "")


@pytest.fixture
def app_config() -> dict:
    return {"SOCKET_EVENTS_BURST": 1_000_000}


def json_values() -> st.SearchStrategy:
    scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=2**31 - 2, max_value=2**70)
               | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def payloads(ids: st.SearchStrategy, message_ids: st.SearchStrategy) -> st.SearchStrategy:
    """Objects with some of the commands' fields, each right or wrong, and sometimes one field too many."""
    bodies = (st.text(max_size=40) | st.integers(3990, 4010).map(lambda n: "x" * n)
              | st.integers(1, 9000).map(lambda n: "\u00e9" * n) | json_values())
    client_ids = st.text(string.ascii_letters + string.digits + "-_ .", min_size=0, max_size=70) | json_values()
    fields = {"case_id": ids | json_values(), "channel": st.sampled_from(CHANNELS) | json_values(),
              "body": bodies, "client_id": client_ids, "message_id": message_ids | json_values(),
              "since": st.integers(-2, 50) | json_values()}
    extra = st.dictionaries(st.sampled_from(["author_role", "room", "sid", "__proto__", "case"]), json_values(),
                            max_size=1)
    return st.builds(lambda chosen, more: {**chosen, **more}, st.fixed_dictionaries({}, optional=fields), extra)


def arguments(ids: st.SearchStrategy, message_ids: st.SearchStrategy) -> st.SearchStrategy:
    """What follows the event name: nothing, one object (mostly), one other JSON value, or several."""
    return st.one_of(st.just(None), payloads(ids, message_ids), payloads(ids, message_ids), json_values(),
                     st.tuples(payloads(ids, message_ids), json_values()))


def well_typed(ids: st.SearchStrategy, message_ids: st.SearchStrategy) -> st.SearchStrategy:
    """(command, payload) with exactly the command's fields, each of the right type: only the case, the
    channel, the message and the body's length vary, so many of these are served."""
    channel = st.sampled_from(CHANNELS[:3])
    fields = {
        "join": {"case_id": ids, "since": st.none() | st.integers(0, 10)},
        "send": {"case_id": ids, "channel": channel, "body": st.text(min_size=1, max_size=20)
                 | st.integers(3998, 4002).map(lambda n: "y" * n), "client_id": st.sampled_from(["a", "b", "c"])},
        "typing": {"case_id": ids, "channel": channel},
        "read": {"case_id": ids, "channel": channel, "message_id": message_ids},
    }
    return st.one_of(*(st.tuples(st.just(name), st.fixed_dictionaries(shape)) for name, shape in fields.items()))


def events(ids: st.SearchStrategy, message_ids: st.SearchStrategy) -> st.SearchStrategy:
    names = st.sampled_from(COMMANDS) | st.sampled_from(NOT_COMMANDS) | st.text(max_size=12)
    return well_typed(ids, message_ids) | st.tuples(names, arguments(ids, message_ids))


def stored_messages() -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Message)).scalar_one()


def may_serve(args, own_case: int) -> bool:
    """Only the sender's own case, and there only the joint channel: caucuses are closed before mediation."""
    if not isinstance(args, dict):
        return False
    return (args.get("case_id") == own_case and type(args.get("case_id")) is int
            and args.get("channel", "joint") == "joint")


def check_ack(event: str, args, ack, own_case: int) -> None:
    if event not in COMMANDS:
        assert ack is None, (event, args, ack)
        return
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, args, ack)
    if ack["ok"]:
        assert may_serve(args, own_case), (event, args, ack)
    else:
        assert 400 <= ack["error"]["code"] < 500, (event, args, ack)


def test_random_events_are_served_or_refused_and_refusals_change_nothing(make_case, joined, connect):
    case, other = make_case(), make_case()
    mine = messages.send_message(case.actor("seller"), case.id, "joint", "Seen?", "seen").message.id
    theirs = messages.send_message(other.actor("buyer"), other.id, "joint", "Elsewhere.", "x").message.id
    senders: dict[str, tuple[RoomClient, int]] = {
        "party": (joined(case, "buyer"), case.id),
        "outsider": (connect(token=other.token("seller")), other.id),
    }
    ids = st.sampled_from([case.id, other.id, 999_999])
    message_ids = st.sampled_from([mine, theirs, 999_999])

    @settings(max_examples=100, deadline=2000, database=None)
    @given(sender=st.sampled_from(sorted(senders)),
           sent=events(ids, message_ids))
    def one_event(sender: str, sent: tuple) -> None:
        client, own_case = senders[sender]
        event, args = sent
        before, messages_before = database_rows(), stored_messages()
        ack = client.call(event, args)
        check_ack(event, args, ack, own_case)
        served = isinstance(ack, dict) and ack["ok"]
        hypothesis.event(f"{event if event in COMMANDS else 'other'}: "
                         f"{'served' if served else ack['error']['code'] if ack else 'no ack'}")
        if not served or event in ("join", "typing"):
            assert database_rows() == before, (event, args, ack)
        added = 1 if served and event == "send" and not ack["duplicate"] else 0
        assert stored_messages() == messages_before + added, (event, args, ack)
        assert client.call("join", {"case_id": own_case})["ok"], "the connection stopped answering"

    one_event()
