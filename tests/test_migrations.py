"""The migrations build exactly the schema the models describe, both ways."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from dispatch_app.db import migrate
from dispatch_app.db.engine import editor_name, make_sync_engine
from dispatch_app.db.models import NOTIFYING_TABLES, VERSIONED_TABLES, Base
from dispatch_app.errors import UpgradeBlocked


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
        if table in VERSIONED_TABLES:
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


def test_an_upgrade_over_records_the_new_rules_refuse_names_them_and_changes_nothing(
    empty_db_url: str,
) -> None:
    """Rows written before the rules existed: what needs no decision is tidied, the rest
    stops the upgrade with a sentence naming the rows, and nothing is half done."""
    engine = make_sync_engine(empty_db_url)
    try:
        migrate.upgrade(engine, "0004")
        with engine.begin() as db:

            def one(statement: str, **values: object) -> int:
                return db.execute(text(statement), values).scalar_one()

            jose = one("INSERT INTO customers (name) VALUES ('José Núñez') RETURNING id")
            twin = one("INSERT INTO customers (name) VALUES ('Jose Nunez') RETURNING id")
            mei = one("INSERT INTO customers (name) VALUES ('Mei Chen') RETURNING id")
            for customer, number in (
                (jose, "+13125550123"),
                (twin, "+13125550123"),  # two CSRs, one new caller, before the rule
                (mei, "+17735550142"),
                (mei, "+17735550142"),  # the same number twice on one customer
            ):
                db.execute(
                    text("INSERT INTO customer_phones (customer_id, number) VALUES (:c, :n)"),
                    {"c": customer, "n": number},
                )
            site = one(
                "INSERT INTO service_sites (customer_id, street, city, state, zip) "
                "VALUES (:c, '1 Main St', 'Chicago', 'il', '60657''); D') RETURNING id",
                c=jose,
            )
            job = one(
                "INSERT INTO job_types (trade, name, default_duration_min) "
                "VALUES ('hvac', 'No heat', 60) RETURNING id"
            )
            order = one(
                "INSERT INTO work_orders (customer_id, site_id, job_type_id) "
                "VALUES (:c, :s, :j) RETURNING id",
                c=jose,
                s=site,
                j=job,
            )
            visit = one(
                "INSERT INTO visits (work_order_id, starts, ends, status) VALUES "
                "(:o, '0001-01-01 09:00+00', '0001-01-01 10:00+00', 'scheduled') RETURNING id",
                o=order,
            )

        def phones() -> list[tuple[int, str]]:
            with engine.connect() as db:
                return [
                    tuple(row)
                    for row in db.execute(
                        text("SELECT customer_id, number FROM customer_phones ORDER BY id")
                    )
                ]

        held = phones()
        with pytest.raises(UpgradeBlocked) as blocked:
            migrate.upgrade(engine)
        message = str(blocked.value)
        assert message.startswith("The database was not upgraded (nothing changed)")
        assert f"+13125550123 is on file for customers {jose} (José Núñez) and {twin}" in message
        assert f"1 service site with a ZIP code that is not 12345 or 12345-6789 (id {site})" in (
            message
        )
        assert f"1 visit with a booked time outside 2000–2099 (id {visit})" in message
        assert "+17735550142" not in message  # tidied without asking anyone
        with engine.connect() as db:
            assert migrate.schema_state(db).current == "0004"
        assert phones() == held  # the tidying was rolled back with the rest

        # Someone decides: the twin is José, the ZIP is 60657, the visit was in 2026.
        with engine.begin() as db:
            db.execute(text("DELETE FROM customer_phones WHERE customer_id = :c"), {"c": twin})
            db.execute(text("UPDATE service_sites SET zip = '60657'"))
            db.execute(
                text(
                    "UPDATE visits SET starts = starts + interval '2025 years', "
                    "ends = ends + interval '2025 years'"
                )
            )
        assert migrate.upgrade(engine).up_to_date
        assert phones() == [(jose, "+13125550123"), (mei, "+17735550142")]
        with engine.connect() as db:
            assert db.execute(text("SELECT state, zip FROM service_sites")).one() == (
                "IL",
                "60657",
            )
    finally:
        engine.dispose()


def test_one_number_is_one_customer_in_the_database(sync_engine) -> None:
    with sync_engine.begin() as db:
        first, second = (
            db.execute(
                text(f"INSERT INTO customers (name) VALUES ('{name}') RETURNING id")
            ).scalar_one()
            for name in ("Ana Lima", "Ana Lima")
        )
        db.execute(
            text("INSERT INTO customer_phones (customer_id, number) VALUES (:c, '+13125550123')"),
            {"c": first},
        )
    with pytest.raises(IntegrityError) as refused, sync_engine.begin() as db:
        db.execute(
            text("INSERT INTO customer_phones (customer_id, number) VALUES (:c, '+13125550123')"),
            {"c": second},
        )
    assert refused.value.orig.diag.constraint_name == "uq_customer_phones_number"


def test_the_models_name_every_check_constraint_the_migrations_made(sync_engine) -> None:
    """Alembic does not compare CHECK constraints: their names are compared here."""
    from sqlalchemy import CheckConstraint

    declared = {
        str(constraint.name)
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    with sync_engine.connect() as db:
        made = set(
            db.execute(
                text(
                    "SELECT conname FROM pg_constraint c JOIN pg_namespace n "
                    "ON n.oid = c.connamespace WHERE c.contype = 'c' AND n.nspname = 'public'"
                )
            ).scalars()
        )
    assert declared == made
