"""A NUL character anywhere a request carries text (JSON, query, page form, upload form) is a 422 naming the
field, and nothing changes: PostgreSQL could not store it, and no field means one."""
from __future__ import annotations

from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, Evidence, LoginFailure
from tests.api.test_cases_api import case_body
from tests.evidence.files import jpeg, upload


def cases() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def test_a_nul_in_a_json_field_is_a_422_naming_it(client, make_platform):
    platform = make_platform()
    response = client.post("/api/v1/cases", json=case_body(description="Broken\x00lid"), headers=platform.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"description": ["Remove control characters."]}
    assert cases() == 0


def test_a_nul_in_a_nested_json_field_names_its_path(client, make_platform):
    platform = make_platform()
    body = case_body(buyer={"external_id": "b1", "name": "Oli\x00via", "locale": "en"})
    response = client.post("/api/v1/cases", json=body, headers=platform.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"buyer": {"name": ["Remove control characters."]}}


def test_a_nul_in_a_query_parameter_is_a_422_naming_it(client, make_platform):
    platform = make_platform()
    response = client.get("/api/v1/cases?external_order_id=ORD%001", headers=platform.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"external_order_id": ["Remove control characters."]}


def test_a_nul_in_a_page_form_is_an_error_page_not_a_crash(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    page = client.post("/login", data={"email": "mediator\x00@example.com", "password": "a long password"})
    assert page.status_code == 422
    assert "text/html" in page.content_type
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 0  # refused before sign-in looked at it


def test_a_nul_in_an_upload_caption_is_a_422_and_stores_nothing(client, make_case):
    info = make_case()
    response = upload(client, info, "buyer", jpeg(), caption="The lid\x00")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"caption": ["Remove control characters."]}
    assert db.session.scalar(select(func.count(Evidence.id))) == 0


def test_text_without_a_nul_passes_the_guard(client, make_platform):
    platform = make_platform()
    response = client.post("/api/v1/cases", json=case_body(description="Line one\nline two\ttabbed"),
                           headers=platform.headers)
    assert response.status_code == 201
