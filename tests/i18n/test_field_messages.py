"""marshmallow's own field messages ("Missing data for required field.", "Must be one of: …") reach API
callers and socket clients in their language, like our own messages."""
from __future__ import annotations

import re

import pytest

from mediation.schemas.messages import translated

CJK = re.compile(r"[\u4e00-\u9fff]")


def field_messages(answer: dict) -> list[str]:
    return [text for texts in answer["errors"].values() if isinstance(texts, list) for text in texts]


def test_a_missing_field_is_reported_in_chinese_to_a_chinese_caller(client, make_platform):
    platform = make_platform()
    response = client.post("/api/v1/cases", json={}, headers={**platform.headers, "Accept-Language": "zh-CN"})
    assert response.status_code == 422
    messages = field_messages(response.get_json())
    assert messages and all(CJK.search(text) for text in messages), messages


def test_a_choice_outside_the_list_names_the_choices_in_chinese(client, make_platform):
    from tests.api.test_cases_api import case_body

    platform = make_platform()
    response = client.post("/api/v1/cases", json=case_body(reason="bored"),
                           headers={**platform.headers, "Accept-Language": "zh-CN"})
    [message] = response.get_json()["errors"]["reason"]
    assert CJK.search(message) and "damaged" in message


def test_an_english_caller_still_reads_english(client, make_platform):
    platform = make_platform()
    response = client.post("/api/v1/cases", json={}, headers={**platform.headers, "Accept-Language": "en"})
    assert "Missing data for required field." in field_messages(response.get_json())


@pytest.mark.parametrize("english, expected", [
    ("Shorter than minimum length 3.", "At least 3 characters."),
    ("Must be greater than or equal to 1 and less than or equal to 30.", "Must be from 1 to 30."),
    ("Must be one of: open, closed.", "Must be one of: open, closed."),
    ("A message of our own.", "A message of our own."),
])
def test_marshmallow_messages_are_matched_with_their_values(app, english, expected):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert str(translated(english)) == expected


def test_a_socket_error_ack_translates_field_messages(app):
    from mediation.realtime.handlers import _error

    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        ack = _error(422, "x", {"case_id": ["Missing data for required field."]})
    assert CJK.search(ack["error"]["errors"]["case_id"][0])
