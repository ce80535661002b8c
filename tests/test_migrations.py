"""The migrations build exactly the schema the models describe, both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from dispatch_app.db import migrate
from dispatch_app.db.engine import editor_name, make_sync_engine
from dispatch_app.db.models import NOTIFYING_TABLES, Base


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def test_upgrade_downgrade_upgrade_matches_models(empty_db_url: str) -> None:
    engine = make_sync_engine(empty_db_url)
    try:
        state = migrate.upgrade(engine)
        assert state.up_to_date
        assert _differences(engine) == []

        migrate.downgrade(engine, "base")
        with engine.connect() as connection:
            leftovers = set(inspect(connection).get_table_names()) - {"alembic_version"}
            functions = (
                connection.execute(
                    text("SELECT proname FROM pg_proc WHERE proname LIKE 'dispatch_%'")
                )
                .scalars()
                .all()
            )
        assert leftovers == set()
        assert functions == []

        migrate.upgrade(engine)
        assert _differences(engine) == []
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
        assert set(NOTIFYING_TABLES) <= tables
    finally:
        engine.dispose()


def test_every_shown_table_has_touch_and_notify_triggers(sync_engine) -> None:
    with sync_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        ).all()
    triggers = {(table, name) for table, name in rows}
    for table in NOTIFYING_TABLES:
        assert (table, f"{table}_notify") in triggers
        if table != "status_history":
            assert (table, f"{table}_touch") in triggers


def test_update_bumps_version_and_updated_at(sync_engine) -> None:
    with sync_engine.begin() as connection:
        before = connection.execute(
            text("SELECT version, updated_at FROM app_settings WHERE key = 'snap_minutes'")
        ).one()
        connection.execute(text("SELECT pg_sleep(0.01)"))
    with sync_engine.begin() as connection:
        # Even a statement that tries to set the version itself gets the next one.
        connection.execute(
            text("UPDATE app_settings SET value = '30', version = 99 WHERE key = 'snap_minutes'")
        )
        after = connection.execute(
            text("SELECT version, updated_at FROM app_settings WHERE key = 'snap_minutes'")
        ).one()
    assert after.version == before.version + 1
    assert after.updated_at > before.updated_at


def test_changes_are_stamped_with_the_editor(sync_engine) -> None:
    with sync_engine.begin() as connection:
        ids = connection.execute(
            text(
                "WITH c AS (INSERT INTO customers (name) VALUES ('Ana') RETURNING id), "
                "s AS (INSERT INTO service_sites (customer_id, street, city, state, zip) "
                "      SELECT id, '1 Main St', 'Chicago', 'IL', '60601' FROM c RETURNING id), "
                "j AS (INSERT INTO job_types (trade, name, default_duration_min) "
                "      VALUES ('hvac', 'AC repair', 60) RETURNING id) "
                "INSERT INTO work_orders (customer_id, site_id, job_type_id) "
                "SELECT c.id, s.id, j.id FROM c, s, j RETURNING id"
            )
        ).scalar_one()
        connection.execute(text("INSERT INTO visits (work_order_id) VALUES (:id)"), {"id": ids})
        login = connection.execute(text("SELECT dispatch_editor()")).scalar_one()
        assert login == editor_name()  # the workstation user, set at connect
        assert connection.execute(text("SELECT created_by, updated_by FROM work_orders")).one() == (
            login,
            login,
        )
    with sync_engine.begin() as connection:
        connection.execute(text("SET LOCAL dispatch.editor = 'jsmith'"))
        connection.execute(text("UPDATE visits SET status = 'scheduled'"))
        connection.execute(text("UPDATE work_orders SET description = 'No heat'"))
        assert connection.execute(text("SELECT updated_by FROM visits")).scalar_one() == "jsmith"
        assert connection.execute(text("SELECT created_by, updated_by FROM work_orders")).one() == (
            login,
            "jsmith",
        )
