"""What the room refuses. Every refusal is an error ack {"ok": false, "error": {"code": 4xx, …}} and leaves
the database exactly as it was.
"""
from __future__ import annotations

import pytest

from mediation.services import cases, messages
from tests.realtime.conftest import lapse_response_deadline
from tests.realtime.room_client import wait_until


def refusal(ack: dict, code: int) -> dict:
    """The error of an error ack, after checking its shape and code."""
    assert ack["ok"] is False, ack
    error = ack["error"]
    assert error["code"] == code, ack
    assert set(error) == {"code", "status", "message", "errors"} and error["message"], ack
    return error


@pytest.fixture
def case(make_case):
    """A case with one message in it, so "nothing changed" has something to compare."""
    info = make_case()
    messages.send_message(info.actor("buyer"), info.id, "joint", "Already said.", "earlier")
    return info


@pytest.fixture
def other_case(make_case):
    return make_case()


# ---- other cases: missing and hidden look alike (404) --------------------------------------------


def test_joining_another_cases_room_is_refused_as_not_found(case, other_case, joined, unchanged_database):
    buyer = joined(case, "buyer")
    with unchanged_database():
        refusal(buyer.call("join", {"case_id": other_case.id}), 404)


def test_another_case_and_a_case_that_does_not_exist_are_refused_alike(case, other_case, connect):
    buyer = connect(token=case.token("buyer"))
    assert buyer.call("join", {"case_id": other_case.id}) == buyer.call("join", {"case_id": 999_999})


def test_a_refused_join_does_not_let_the_client_hear_that_room(case, other_case, connect, joined):
    intruder = connect(token=case.token("buyer"))
    intruder.call("join", {"case_id": other_case.id})
    insider = joined(other_case, "seller")
    joined(other_case, "buyer").send(other_case.id, "Private to this case.", "c-1")
    insider.wait_for("message")
    intruder.call("typing", {"case_id": case.id})  # an ack after which anything sent earlier has arrived
    assert intruder.received == []


ACTIONS_IN_A_CASE = {
    "send": {"body": "Let me in.", "client_id": "c-1"},
    "typing": {},
    "read": {"message_id": 1},
}


def test_sending_typing_or_reading_in_another_case_is_refused_as_not_found(
        case, other_case, joined, subtests, unchanged_database):
    buyer = joined(case, "buyer")
    for event, payload in ACTIONS_IN_A_CASE.items():
        with subtests.test(msg=event), unchanged_database():
            refusal(buyer.call(event, {"case_id": other_case.id, **payload}), 404)


def test_a_browser_signed_in_to_one_case_is_asked_to_sign_in_for_another(
        case, other_case, connect, browser_cookie, unchanged_database):
    browser = connect(cookie=browser_cookie(case, "buyer"))
    with unchanged_database():
        refusal(browser.call("join", {"case_id": other_case.id}), 401)


# ---- channels one may not use (403) or not yet (409) ---------------------------------------------


@pytest.mark.parametrize("in_mediation", [False, True], ids=["open", "mediation"])
def test_the_buyer_may_not_post_in_the_sellers_caucus(case, joined, unchanged_database, in_mediation):
    if in_mediation:
        lapse_response_deadline(case.id)
    buyer = joined(case, "buyer")
    with unchanged_database():
        refusal(buyer.send(case.id, "Let me listen in.", "c-1", channel="caucus:seller"), 403)


def test_the_buyer_may_not_signal_typing_in_the_sellers_caucus(case, joined, unchanged_database):
    lapse_response_deadline(case.id)
    buyer = joined(case, "buyer")
    with unchanged_database():
        refusal(buyer.call("typing", {"case_id": case.id, "channel": "caucus:seller"}), 403)


def test_the_buyer_may_not_mark_the_sellers_caucus_read(case, joined, unchanged_database):
    lapse_response_deadline(case.id)
    buyer = joined(case, "buyer")
    with unchanged_database():
        refusal(buyer.call("read", {"case_id": case.id, "channel": "caucus:seller", "message_id": 1}), 403)


def test_posting_in_ones_own_caucus_before_mediation_is_a_conflict(case, joined, unchanged_database):
    buyer = joined(case, "buyer")
    with unchanged_database():
        error = refusal(buyer.send(case.id, "Just for the mediator.", "c-1", channel="caucus:buyer"), 409)
    assert "mediator" in error["message"]


def test_typing_in_ones_own_caucus_before_mediation_is_a_conflict(case, joined, unchanged_database):
    buyer = joined(case, "buyer")
    with unchanged_database():
        refusal(buyer.call("typing", {"case_id": case.id, "channel": "caucus:buyer"}), 409)


def test_a_closed_case_refuses_new_messages(case, joined, unchanged_database):
    cases.withdraw_case(case.actor("buyer"), case.id, "Sorted it out with the seller.")
    cases.confirm_execution(case.platform.actor, case.id, "refund-1")
    buyer = joined(case, "buyer")
    with unchanged_database():
        error = refusal(buyer.send(case.id, "One more thing.", "c-1"), 409)
    assert "closed" in error["message"]


def test_marking_read_a_message_that_is_not_in_the_channel_is_refused_as_not_found(
        case, other_case, joined, subtests, unchanged_database):
    joint = messages.send_message(case.actor("seller"), case.id, "joint", "Seen?", "seen").message.id
    elsewhere = messages.send_message(other_case.actor("buyer"), other_case.id, "joint", "x", "x").message.id
    buyer = joined(case, "buyer")
    for name, (channel, message_id) in {
        "no such message": ("joint", 999_999),
        "a message of another channel": ("caucus:buyer", joint),
        "a message of another case": ("joint", elsewhere),
    }.items():
        with subtests.test(msg=name), unchanged_database():
            ack = buyer.call("read", {"case_id": case.id, "channel": channel, "message_id": message_id})
            refusal(ack, 404)


# ---- payloads that are not what the event takes (422) --------------------------------------------

TOO_BIG = 2**70

SEND_PAYLOADS = {
    "case_id missing": ({"body": "hi", "client_id": "c-1"}, "case_id"),
    "case_id a string": ({"case_id": "1", "body": "hi", "client_id": "c-1"}, "case_id"),
    "case_id a float": ({"case_id": 1.5, "body": "hi", "client_id": "c-1"}, "case_id"),
    "case_id a boolean": ({"case_id": True, "body": "hi", "client_id": "c-1"}, "case_id"),
    "case_id zero": ({"case_id": 0, "body": "hi", "client_id": "c-1"}, "case_id"),
    "case_id beyond any row": ({"case_id": 2**31, "body": "hi", "client_id": "c-1"}, "case_id"),
    "case_id beyond 64 bits": ({"case_id": TOO_BIG, "body": "hi", "client_id": "c-1"}, "case_id"),
    "body missing": ({"case_id": "{case}", "client_id": "c-1"}, "body"),
    "body null": ({"case_id": "{case}", "body": None, "client_id": "c-1"}, "body"),
    "body a number": ({"case_id": "{case}", "body": 42, "client_id": "c-1"}, "body"),
    "body empty": ({"case_id": "{case}", "body": "", "client_id": "c-1"}, "body"),
    "body only whitespace": ({"case_id": "{case}", "body": " \n\t ", "client_id": "c-1"}, "body"),
    "body one over the limit": ({"case_id": "{case}", "body": "x" * 4001, "client_id": "c-1"}, "body"),
    "body with a control character": ({"case_id": "{case}", "body": "ring\x07", "client_id": "c-1"}, "body"),
    "client_id missing": ({"case_id": "{case}", "body": "hi"}, "client_id"),
    "client_id empty": ({"case_id": "{case}", "body": "hi", "client_id": ""}, "client_id"),
    "client_id with spaces": ({"case_id": "{case}", "body": "hi", "client_id": "c 1"}, "client_id"),
    "client_id too long": ({"case_id": "{case}", "body": "hi", "client_id": "c" * 65}, "client_id"),
    "client_id a number": ({"case_id": "{case}", "body": "hi", "client_id": 7}, "client_id"),
    "unknown channel": ({"case_id": "{case}", "channel": "private", "body": "hi", "client_id": "c-1"},
                        "channel"),
    "mediators channel": ({"case_id": "{case}", "channel": "caucus:mediator", "body": "hi",
                           "client_id": "c-1"}, "channel"),
    "channel a number": ({"case_id": "{case}", "channel": 1, "body": "hi", "client_id": "c-1"}, "channel"),
    "unknown field": ({"case_id": "{case}", "body": "hi", "client_id": "c-1", "author_role": "mediator"},
                      "author_role"),
}

OTHER_PAYLOADS = {
    "join": {
        "case_id missing": ({}, "case_id"),
        "case_id a string": ({"case_id": "1"}, "case_id"),
        "case_id beyond 64 bits": ({"case_id": TOO_BIG}, "case_id"),
        "since negative": ({"case_id": "{case}", "since": -1}, "since"),
        "since a string": ({"case_id": "{case}", "since": "5"}, "since"),
        "since a float": ({"case_id": "{case}", "since": 1.5}, "since"),
        "since beyond 64 bits": ({"case_id": "{case}", "since": TOO_BIG}, "since"),
        "unknown field": ({"case_id": "{case}", "room": "case:1"}, "room"),
    },
    "typing": {
        "case_id missing": ({"channel": "joint"}, "case_id"),
        "case_id a string": ({"case_id": "1"}, "case_id"),
        "unknown channel": ({"case_id": "{case}", "channel": "everyone"}, "channel"),
        "channel null": ({"case_id": "{case}", "channel": None}, "channel"),
    },
    "read": {
        "message_id missing": ({"case_id": "{case}"}, "message_id"),
        "message_id zero": ({"case_id": "{case}", "message_id": 0}, "message_id"),
        "message_id a string": ({"case_id": "{case}", "message_id": "1"}, "message_id"),
        "message_id beyond 64 bits": ({"case_id": "{case}", "message_id": TOO_BIG}, "message_id"),
        "unknown channel": ({"case_id": "{case}", "channel": "caucus:all", "message_id": 1}, "channel"),
    },
}


def _fill(payload: dict, case_id: int) -> dict:
    return {key: case_id if value == "{case}" else value for key, value in payload.items()}


def _refuses_each(client, event, payloads, case_id, subtests, unchanged_database) -> None:
    for name, (payload, field) in payloads.items():
        with subtests.test(msg=f"{event}: {name}"), unchanged_database():
            error = refusal(client.call(event, _fill(payload, case_id)), 422)
            assert field in error["errors"], error


def test_send_refuses_each_malformed_payload_with_422(case, joined, subtests, unchanged_database):
    _refuses_each(joined(case, "buyer"), "send", SEND_PAYLOADS, case.id, subtests, unchanged_database)


def test_join_typing_and_read_refuse_each_malformed_payload_with_422(case, joined, subtests,
                                                                      unchanged_database):
    buyer = joined(case, "buyer")
    for event, payloads in OTHER_PAYLOADS.items():
        _refuses_each(buyer, event, payloads, case.id, subtests, unchanged_database)


NOT_ONE_OBJECT = {
    "a list": [{"case_id": 1}],
    "a string": "hello",
    "a number": 1,
    "true": True,
    "null": (None,),
    "two arguments": ({"case_id": 1}, {"body": "hi"}),
}


EVENTS = ("join", "send", "typing", "read")


def test_a_payload_that_is_not_one_json_object_is_refused_with_422(case, joined, subtests,
                                                                   unchanged_database):
    buyer = joined(case, "buyer")
    for event in EVENTS:
        for name, payload in NOT_ONE_OBJECT.items():
            with subtests.test(msg=f"{event}: {name}"), unchanged_database():
                assert "_schema" in refusal(buyer.call(event, payload), 422)["errors"]


def test_an_event_without_a_payload_is_refused_with_422(case, joined, subtests, unchanged_database):
    buyer = joined(case, "buyer")
    for event in EVENTS:
        with subtests.test(msg=event), unchanged_database():
            assert "case_id" in refusal(buyer.call(event), 422)["errors"]


def test_a_refused_payload_is_answered_and_the_connection_stays_usable(case, joined):
    buyer = joined(case, "buyer")
    refusal(buyer.call("send", {"case_id": TOO_BIG, "body": "hi", "client_id": "c-1"}), 422)
    assert buyer.send(case.id, "Still here.", "c-2")["ok"]


def test_a_packet_over_the_socket_size_limit_closes_the_connection_and_stores_nothing(
        case, joined, unchanged_database):
    buyer = joined(case, "buyer")
    with unchanged_database():
        buyer.sio.emit("send", {"case_id": case.id, "body": "x" * 70_000, "client_id": "c-1"},
                       namespace="/cases")
        wait_until(lambda: not buyer.sio.connected)
