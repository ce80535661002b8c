"""Schema migrations from inside the app: upgrade, and where a database stands.

Alembic's scripts live in ``migrations/`` beside the package; ``python main.py db
upgrade`` and the embedded server's first start call :func:`upgrade`. An ordinary
client never migrates a shared database: it calls :func:`check_schema` and stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine

from dispatch_app.config import describe_url
from dispatch_app.db.models import APPLICATION_MARKER
from dispatch_app.errors import ForeignDatabase, SchemaAhead, SchemaBehind

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "migrations/ holds no revision"
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None  # None: an empty database, or one that is not ours
    head: str
    ours: bool  # the database carries this app's marker (or is empty)
    empty: bool

    @property
    def up_to_date(self) -> bool:
        return self.ours and self.current == self.head


def schema_state(connection: Connection) -> SchemaState:
    tables = set(inspect(connection).get_table_names())
    head = head_revision()
    current = None
    if "alembic_version" in tables:
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    # A database downgraded to base keeps an empty alembic_version table: still empty.
    if not (tables - {"alembic_version"}) and current is None:
        return SchemaState(current=None, head=head, ours=True, empty=True)
    ours = False
    if "app_settings" in tables:
        marker = connection.execute(
            text("SELECT value #>> '{}' FROM app_settings WHERE key = 'application'")
        ).scalar()
        ours = marker == APPLICATION_MARKER
    return SchemaState(current=current, head=head, ours=ours, empty=False)


def check_schema(connection: Connection, url: str) -> SchemaState:
    """Raise the one-sentence error an ordinary client shows when it must not go on."""
    state = schema_state(connection)
    where = describe_url(url)
    if state.up_to_date:
        return state
    if state.empty:
        raise SchemaBehind(
            f"The database at {where} is empty; run `python main.py db upgrade` once "
            "to create the dispatch schema, then start the app again."
        )
    if not state.ours:
        raise ForeignDatabase(
            f"The database at {where} belongs to another application (it has tables but "
            "not this app's schema); point the app at its own database."
        )
    if state.current in known_revisions():
        raise SchemaBehind(
            f"The database at {where} has schema {state.current}, older than the "
            f"{state.head} this app needs; ask whoever manages the server to run "
            "`python main.py db upgrade`."
        )
    raise SchemaAhead(
        f"The database at {where} has schema {state.current}, newer than this app "
        f"knows ({state.head}); install the newer version of the app on this workstation."
    )


def upgrade(engine: Engine, revision: str = "head") -> SchemaState:
    """Bring the database to ``revision``; refuses a database that is not ours."""
    with engine.begin() as connection:
        state = schema_state(connection)
        if not state.empty and not state.ours:
            raise ForeignDatabase(
                f"The database at {describe_url(str(engine.url))} belongs to another "
                "application; refusing to migrate it."
            )
        if state.current is not None and state.current not in known_revisions():
            raise SchemaAhead(
                f"The database at {describe_url(str(engine.url))} has schema "
                f"{state.current}, newer than this app knows; refusing to migrate it."
            )
        command.upgrade(alembic_config(connection), revision)
    with engine.connect() as connection:
        return schema_state(connection)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
