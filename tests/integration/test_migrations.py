"""The migrations build the same schema as the models, on SQLite and on PostgreSQL, from empty; and each one
upgrades a database made by the one before it, rows and all."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    func,
    inspect,
    select,
    text,
)

from mediation import create_app
from mediation.extensions import db
from tests.conftest import scratch_postgres


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
    with scratch_postgres("migrations", "PostgreSQL migrations not exercised") as url:
        yield url


def test_migrations_upgrade_an_empty_postgres_database_to_the_models(empty_postgres):
    app = migrated_app(empty_postgres)
    with app.app_context():
        upgrade()
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


# ---- step by step, over rows ---------------------------------------------------------------------------


def revisions_in_order() -> list[str]:
    config = current_app.extensions["migrate"].migrate.get_config()
    return [script.revision for script in reversed(list(ScriptDirectory.from_config(config).walk_revisions()))]


def filler(column):
    """A value the column accepts: enough for a row that every later migration must carry along."""
    if column.foreign_keys:
        return 1  # the single row of the parent table
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, LargeBinary):
        return b"x"
    if isinstance(kind, String):
        return "x"
    raise AssertionError(f"no filler for {column.table.name}.{column.name} ({kind!r})")


def seed_empty_tables(connection) -> None:
    """One row in every table that has none yet (parents first), with every required column filled."""
    metadata = MetaData()
    metadata.reflect(connection)
    for table in metadata.sorted_tables:
        if table.name == "alembic_version" or connection.scalar(select(func.count()).select_from(table)):
            continue
        row = {column.name: filler(column) for column in table.columns
               if column.foreign_keys or (not column.primary_key and not column.nullable
                                          and column.server_default is None)}
        connection.execute(table.insert().values(row))


def upgrade_step_by_step_over_rows(app) -> dict[str, int]:
    """From empty to head one revision at a time, adding a row to each new table after every step;
    returns the row count of every table at the end."""
    with app.app_context():
        for revision in revisions_in_order():
            upgrade(revision=revision)
            with db.engine.begin() as connection:
                seed_empty_tables(connection)
        with db.engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            return {table.name: connection.scalar(select(func.count()).select_from(table))
                    for table in metadata.sorted_tables if table.name != "alembic_version"}


def test_each_migration_upgrades_the_rows_of_the_one_before_on_sqlite(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'm.db'}")
    counts = upgrade_step_by_step_over_rows(app)
    assert min(counts.values()) >= 1, counts  # every row seeded along the way is still there
    assert schema_differences(app) == []


def test_each_migration_upgrades_the_rows_of_the_one_before_on_postgres(empty_postgres):
    app = migrated_app(empty_postgres)
    counts = upgrade_step_by_step_over_rows(app)
    assert min(counts.values()) >= 1, counts  # every row seeded along the way is still there
    assert schema_differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_notifications_written_before_the_mail_outbox_are_due_or_already_sent(tmp_path):
    app = migrated_app(f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade(revision="dc61a645699a")
        with db.engine.begin() as connection:
            seed_empty_tables(connection)
            connection.execute(text("INSERT INTO notifications (case_id, recipient, kind, payload, created_at, "
                                    "sent_at) VALUES (1, 'party:1', 'deadline.reminder', '{}', "
                                    "'2026-01-02 00:00:00.000000', '2026-01-02 00:01:00.000000')"))
        upgrade(revision="451ec7d744fa")
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT state, next_attempt_at, created_at FROM notifications "
                                           "ORDER BY id")).all()
    assert [row.state for row in rows] == ["pending", "sent"]
    assert all(row.next_attempt_at == row.created_at for row in rows)
