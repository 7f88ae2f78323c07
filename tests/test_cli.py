"""`flask mediation …` commands."""
from __future__ import annotations

import json

from mediation.extensions import db
from mediation.models import ApiKey, Case, User


def test_create_platform_prints_one_json_object_with_its_key_and_secret(runner, client):
    result = runner.invoke(args=["mediation", "create-platform", "Shop", "--webhook-url", "https://shop.example/hooks",
                                 "--json"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) >= {"id", "api_key", "webhook_secret"}
    assert created["webhook_secret"].startswith("whsec_")
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {created['api_key']}"})
    assert response.status_code == 200


def test_api_keys_are_stored_hashed(runner):
    created = json.loads(runner.invoke(args=["mediation", "create-platform", "Shop", "--json"]).output)
    stored = db.session.query(ApiKey).one()
    assert created["api_key"] not in (stored.key_hash, stored.hint)


def test_a_taken_platform_name_is_refused(runner):
    runner.invoke(args=["mediation", "create-platform", "Shop"])
    result = runner.invoke(args=["mediation", "create-platform", "Shop"])
    assert result.exit_code != 0 and "exists" in str(result.exception or result.output)


def test_create_user_makes_a_mediator_who_can_sign_in(runner):
    result = runner.invoke(args=["mediation", "create-user", "--email", "m@example.com", "--name", "Mei",
                                 "--role", "mediator", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    user = db.session.query(User).one()
    assert user.role == "mediator" and user.check_password("a long password")
    assert "a long password" not in user.password_hash


def test_demo_loads_once_and_prints_logins_links_and_a_key(runner, app):
    app.config["DEMO"] = True
    first = runner.invoke(args=["mediation", "demo"])
    assert first.exit_code == 0, first.output
    assert "mediator@demo.test" in first.output and "/join/" in first.output and "mk_" in first.output
    runner.invoke(args=["mediation", "demo"])
    assert db.session.query(Case).count() == 1
    assert db.session.query(User).count() == 3


def test_deliver_webhooks_once_reports_what_it_attempted(runner):
    result = runner.invoke(args=["mediation", "deliver-webhooks", "--once"])
    assert result.exit_code == 0 and "0 attempted" in result.output
