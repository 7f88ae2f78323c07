"""Schemathesis against /api/v1/openapi.json: every documented operation, with valid and invalid generated
requests, each sent as a platform (its API key) and as a party (a buyer's party token). No answer is a 5xx,
every status is documented for its operation, and every body, media type and header is as documented.

The path's ids mostly name real things of a small world (cases in several states, their proposals, files,
requests and appeal), so the requests get past "not found" into the services; the rest are random.
Rate limits are lifted here (they are tested in tests/web/test_rate_limits.py), or fuzzing would only meet
429s. The run is seeded and small, so CI sends the same requests every time.

The completeness tests (no fuzzing) check the document itself: every API route is in it with its methods,
and every operation documents the errors it can answer with, each with a body schema.
"""
from __future__ import annotations

import contextvars
import re

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks

from mediation.extensions import db
from tests.api.openapi_support import OPENAPI_PATH, TEXT_FILE, Snapshot, World, build_world, load_schema, png_bytes

schema = load_schema()

ACTORS = ("platform", "party")
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


@pytest.fixture(scope="module")
def evidence_dir(tmp_path_factory) -> str:
    """One store for the module: the world's files are in it, and every test's database names them."""
    return str(tmp_path_factory.mktemp("evidence"))


@pytest.fixture
def app_config(request, evidence_dir) -> dict:
    unlimited = "1000000 per minute"
    return {"EVIDENCE_DIR": evidence_dir, "RATELIMIT_API": unlimited, "RATELIMIT_JOIN": unlimited,
            **getattr(request, "param", {})}


# Per evidence store (one per module and xdist worker): the snapshot's rows name the files stored there.
_snapshots: dict[str, Snapshot] = {}


@pytest.fixture
def world(app, request, evidence_dir) -> World:
    """A fresh copy of the world in this test's database: built through the services the first time."""
    if evidence_dir not in _snapshots:
        made = build_world(**{name: request.getfixturevalue(name)
                              for name in ("make_platform", "make_case", "make_user", "rulebook")})
        _snapshots[evidence_dir] = Snapshot.take(made)
        return made
    return _snapshots[evidence_dir].restore()


def _mostly(data, known: list, generated):
    """Mostly one of the values that exist, sometimes what schemathesis generated."""
    if not known:
        return generated
    return data.draw(st.sampled_from(known) | st.sampled_from(known) | st.sampled_from(known) | st.just(generated))


# Amounts that fit the world's cases (USD, 100.00 held), for bodies with one or two amounts.
SPLITS = [("100.00", "0.00"), ("30.00", "70.00"), ("50.00", "50.00"), ("0.00", "100.00")]


def _usd(value: str) -> dict:
    return {"value": value, "currency": "USD"}


def aim(case, world: World, data) -> None:
    """Point the generated request at the world: ids in the path (a proposal of the case in the path, mostly),
    and the ids, join tokens, amounts and files a body may carry."""
    params = case.path_parameters or {}
    if "case_id" in params:
        params["case_id"] = _mostly(data, list(world.cases.values()), params["case_id"])
    case_id = params.get("case_id")
    for name, value in params.items():
        if name == "item":
            params[name] = _mostly(data, world.checklist_items, value)
        elif name in world.children:
            in_case = world.children[name].get(case_id) or [i for ids in world.children[name].values() for i in ids]
            params[name] = _mostly(data, in_case, value)
    body = case.body
    if not isinstance(body, dict):
        return
    if "counter_to" in body:
        body["counter_to"] = _mostly(data, world.children["counter_to"].get(case_id, []), body["counter_to"])
    if "request_id" in body:
        body["request_id"] = _mostly(data, world.children["request_id"].get(case_id, []), body["request_id"])
    if "case_id" in body:
        body["case_id"] = _mostly(data, list(world.cases.values()), body["case_id"])
    if "join_token" in body:
        body["join_token"] = _mostly(data, world.join_tokens, body["join_token"])
    if "buyer_refund" in body and "seller_release" in body:
        split = _mostly(data, SPLITS, None)
        if split is not None:
            body["buyer_refund"], body["seller_release"] = _usd(split[0]), _usd(split[1])
    if "amount" in body and data.draw(st.booleans(), label="a valid amount"):
        body["amount"] = _usd("100.00")
        if "held_amount" in body:
            body["held_amount"] = _usd("100.00")
    if "file" in body:
        body["file"] = data.draw(st.sampled_from([png_bytes(), TEXT_FILE, body["file"]]), label="file")


def credentials(actor: str, case, world: World, data) -> dict:
    if actor == "platform":
        return world.platform_headers
    case_id = (case.path_parameters or {}).get("case_id")
    if case_id in world.buyers and data.draw(st.integers(0, 4), label="buyer of another case") > 0:
        return world.buyers[case_id]  # the buyer of the case in the path
    return world.buyers[world.cases["open"]]  # a party of another case (or of none)


def call(app, case, headers: dict):
    """One request in a context of its own, as in production (its own `g`, its own database session);
    afterwards the test's session sees what the request wrote."""
    response = contextvars.Context().run(case.call, app=app, headers=headers)
    db.session.commit()
    db.session.expire_all()
    return response


@schema.parametrize()
@schema.given(data=st.data())
# One world per operation, shared by its examples: they act on it in turn, as clients would.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_operation_answers_as_documented(app, world, case, data):
    """Each generated request is sent twice: with the platform's API key, then with a party token."""
    aim(case, world, data)
    for actor in ACTORS:
        headers = credentials(actor, case, world, data)
        response = call(app, case, headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseException as failure:
            failure.add_note(f"Sent with the {actor}'s credentials.")
            raise



@pytest.mark.parametrize("app_config", [{"RATELIMIT_API": "2 per minute", "RATELIMIT_JOIN": "2 per minute"}],
                         indirect=True)
def test_a_refusal_for_too_many_requests_is_as_documented(client, make_case):
    """The fuzzing above lifts the limits; here they bite, and the 429 is checked against the document."""
    info = make_case()
    calls = [("GET", "/api/v1/cases/{case_id}", {"case_id": info.id}, {"headers": info.platform.headers}),
             ("POST", "/api/v1/party-tokens", {}, {"json": {"join_token": info.join_tokens["buyer"]}})]
    for method, path, parameters, kwargs in calls:
        url = path.format(**parameters)
        answers = [client.open(url, method=method, **kwargs) for _ in range(3)]
        assert [answer.status_code for answer in answers][-1] == 429
        case = schema[path][method].Case(path_parameters=parameters)
        case.validate_response(answers[-1], checks=CHECKS)


# ---- the document itself --------------------------------------------------------------------------

HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
DOCUMENT_ROUTES = {"/api/v1/openapi.json", "/api/v1/docs"}
PUBLIC = {("get", "/api/v1/request-kinds")}  # no credentials at all
BY_JOIN_TOKEN = {("post", "/api/v1/party-tokens")}  # a join link's token in the body instead


def operations(document: dict) -> dict[tuple[str, str], dict]:
    return {(method, path): operation for path, item in document["paths"].items()
            for method, operation in item.items() if method in HTTP_METHODS}


def routes(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every API route the app serves, but the document's own."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.rule not in DOCUMENT_ROUTES:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def expected_errors(method: str, path: str, operation: dict) -> set[int]:
    """The error statuses an operation can answer with, by what the code does for every API call."""
    key = (method, path)
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    codes = {429}  # every API call counts against a rate limit (mediation.limits)
    if key not in PUBLIC:
        codes.add(401)  # no, or no valid, credentials (or join token)
    if "{" in path:
        codes.add(404)  # an id that names nothing (or nothing the caller may see)
    if has_body or any(parameter["in"] == "query" for parameter in parameters):
        codes.add(422)  # the arguments' validation (webargs)
    if has_body:
        codes |= {400, 413}  # not JSON (or form data); larger than allowed
    if method != "get" and key not in PUBLIC | BY_JOIN_TOKEN:
        codes |= {400, 403}  # a signed-in browser without its CSRF token; a caller who may not do this
    if method == "post" and path.startswith("/api/v1/cases/{case_id}/"):
        codes.add(409)  # not in the case's current state, or another change came first
    if operation.get("security") == [{"apiKey": []}]:
        codes.add(403)  # a party or staff member on a platform's call
    if any(parameter["in"] == "header" and parameter["name"] == "Range" for parameter in parameters):
        codes.add(416)
    return codes


@pytest.fixture
def document(client) -> dict:
    response = client.get(OPENAPI_PATH)
    assert response.status_code == 200
    return response.get_json()


def test_every_api_route_is_documented_with_its_methods_and_nothing_else(app, document):
    served, documented = routes(app), set(operations(document))
    assert len(served) > 30
    assert {rule.rule for rule in app.url_map.iter_rules()} >= DOCUMENT_ROUTES  # what `routes` leaves out
    assert served - documented == set(), "served but not in the OpenAPI document"
    assert documented - served == set(), "documented but not served"


def test_the_fuzz_test_covers_every_documented_operation(document):
    loaded = [result.ok() for result in schema.get_all_operations()]  # an invalid definition raises here
    assert {(operation.method.lower(), operation.path) for operation in loaded} == set(operations(document))


def test_every_operation_documents_the_errors_it_can_answer_with(document):
    missing = {f"{method.upper()} {path}": sorted(expected_errors(method, path, operation)
                                                  - {int(code) for code in operation["responses"]})
               for (method, path), operation in operations(document).items()}
    assert {operation: codes for operation, codes in missing.items() if codes} == {}


def test_every_response_has_a_body_schema_and_every_error_is_in_the_error_shape(document):
    problems = []
    for (method, path), operation in operations(document).items():
        for code, response in operation["responses"].items():
            where = f"{method.upper()} {path} {code}"
            if code == "304":
                assert "content" not in response, where
                continue
            content = response.get("content") or {}
            if not content or not all(media.get("schema") for media in content.values()):
                problems.append(f"{where}: no body schema")
            elif code.startswith("4") and content != {"application/json": {"schema": ERROR_REF}}:
                problems.append(f"{where}: not the error shape")
    assert problems == []


def test_every_call_that_needs_credentials_says_which(document):
    schemes = set(document["components"]["securitySchemes"])
    for (method, path), operation in operations(document).items():
        if (method, path) in PUBLIC | BY_JOIN_TOKEN:
            assert "security" not in operation, path
        else:
            named = {name for requirement in operation.get("security", []) for name in requirement}
            assert named and named <= schemes, f"{method.upper()} {path}"
