"""The standard rulebook arrives by migration: published version 1, every clause in English and Chinese,
on SQLite and on PostgreSQL; an installation with a rulebook of its own is left alone."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from mediation import create_app
from mediation.extensions import db
from mediation.models import Case, Clause, Rulebook, RulebookVersion
from mediation.services import admin, cases
from mediation.services.actors import PlatformActor
from tests.conftest import case_data, scratch_postgres

ROOT = Path(__file__).resolve().parents[2]
FROZEN = ROOT / "migrations" / "data" / "standard_rulebook_v1.json"
PRODUCT = ROOT / "mediation" / "rules" / "standard.json"
BEFORE = "e2eb58e59693"  # the revision that made the rulebook tables


def migrated_app(url: str):
    return create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url, "BACKGROUND_WORKERS": False})


@pytest.fixture
def sqlite_app(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def postgres_app():
    with scratch_postgres("standard_rulebook", "the migration is not exercised on PostgreSQL") as url:
        app = migrated_app(url)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


def standard_version() -> RulebookVersion | None:
    return db.session.scalar(select(RulebookVersion).join(Rulebook).where(Rulebook.slug == "standard"))


def assert_standard_rulebook_installed() -> None:
    frozen = json.loads(FROZEN.read_text(encoding="utf-8"))
    version = standard_version()
    assert version is not None and version.number == 1 and version.published
    assert version.rulebook.title == frozen["title"]
    assert [c.number for c in version.clauses] == [c["number"] for c in frozen["clauses"]]
    for clause, expected in zip(version.clauses, frozen["clauses"], strict=True):
        assert clause.title == expected["title"] and clause.body == expected["body"]
        assert clause.title["en"] and clause.body["en"] and clause.title["zh_Hans_CN"] and clause.body["zh_Hans_CN"]


def test_upgrading_an_empty_sqlite_database_installs_the_published_standard_rulebook(sqlite_app):
    upgrade()
    assert_standard_rulebook_installed()


def test_upgrading_an_empty_postgres_database_installs_the_published_standard_rulebook(postgres_app):
    upgrade()
    assert_standard_rulebook_installed()


def test_a_case_opened_after_the_upgrade_is_decided_by_the_standard_rulebook(sqlite_app):
    upgrade()
    platform = admin.create_platform("Shop")
    opened = cases.open_case(PlatformActor(platform.platform_id), case_data())
    assert db.session.get(Case, opened.case.id).rulebook_version_id == standard_version().id


def test_an_installation_with_a_rulebook_of_its_own_gets_no_standard_one(sqlite_app):
    upgrade(revision=BEFORE)
    with db.engine.begin() as connection:
        connection.execute(text("INSERT INTO rulebooks (slug, title, created_at) "
                                "VALUES ('own', '{\"en\": \"Own\"}', '2026-01-01 00:00:00')"))
    upgrade()
    assert standard_version() is None and db.session.scalar(select(func.count(Rulebook.id))) == 1


def test_downgrading_removes_the_standard_rulebook(sqlite_app):
    upgrade()
    db.session.remove()
    downgrade(revision=BEFORE)
    assert db.session.scalar(select(func.count(Clause.id))) == 0
    assert db.session.scalar(select(func.count(Rulebook.id))) == 0


def test_downgrading_keeps_the_standard_rulebook_while_a_platform_uses_it(sqlite_app):
    upgrade()
    platform = admin.create_platform("Shop")
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE platforms SET rulebook_id = (SELECT id FROM rulebooks) WHERE id = :id"),
                           {"id": platform.platform_id})
    db.session.remove()
    downgrade(revision=BEFORE)
    assert standard_version() is not None


def test_the_frozen_copy_is_the_product_file_while_that_is_version_1():
    product = json.loads(PRODUCT.read_text(encoding="utf-8"))
    if product["version"] != 1:
        pytest.skip("the product file has moved on to a later version; the frozen copy stays version 1")
    assert json.loads(FROZEN.read_text(encoding="utf-8")) == product
