"""The migrations build the same schema as the models, on SQLite and on PostgreSQL, from empty."""
from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from mediation import create_app
from mediation.extensions import db


def migrated_app(url: str):
    return create_app({"SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": url})


def schema_differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrations_upgrade_an_empty_sqlite_database_to_the_models(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade()
    assert schema_differences(app) == []


def test_migrations_downgrade_and_upgrade_again_on_sqlite(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()


@pytest.fixture
def empty_postgres():
    """An empty database of its own, named after MEDIATION_TEST_DATABASE_URL's, so parallel runs do not collide."""
    url = os.environ.get("MEDIATION_TEST_DATABASE_URL")
    if not url:
        pytest.skip("MEDIATION_TEST_DATABASE_URL not set: PostgreSQL migrations not exercised")
    target = make_url(url)
    name = f"{target.database}_migrations"
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield target.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_upgrade_an_empty_postgres_database_to_the_models(empty_postgres):
    app = migrated_app(empty_postgres)
    with app.app_context():
        upgrade()
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()
