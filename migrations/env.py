"""Alembic environment: migrates the database the app is pointed at.

Called by ``python main.py db upgrade`` (which hands over an open connection) or by the
``alembic`` command line (which reads ``DISPATCH_DATABASE_URL`` or ``-x url=...``).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from dispatch_app.config import normalise_url
from dispatch_app.db.grants import install_grants
from dispatch_app.db.models import Base
from dispatch_app.db.triggers import install_triggers

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "DISPATCH_DATABASE_URL"
    )
    if not url:
        raise SystemExit("Give the database with -x url=... or DISPATCH_DATABASE_URL.")
    return normalise_url(url)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    # At the head schema, the row triggers, ownership and grants follow the table
    # registry (a table added to it gets its triggers and grants with the migration
    # that creates it, and no code of its own).
    heads = context.get_context().get_current_heads()
    if heads and set(heads) == set(context.script.get_heads()):
        install_triggers(connection)
        install_grants(connection)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as fresh:
        _run(fresh)
        fresh.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
