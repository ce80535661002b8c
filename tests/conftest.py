"""Shared fixtures: a real Qt (offscreen) and real PostgreSQL throwaway databases."""

from __future__ import annotations

import os

# Before any Qt import: no screen here or in CI.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from dispatch_app.db import migrate
from dispatch_app.db.engine import make_sync_engine
from dispatch_app.db.scratch import ScratchServer


@pytest.fixture(scope="session")
def scratch_server() -> Iterator[ScratchServer]:
    server = ScratchServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def migrated_template(scratch_server: ScratchServer) -> Iterator[str]:
    """A database at the head schema, copied (CREATE DATABASE … TEMPLATE) per test."""
    name = scratch_server.create()
    engine = make_sync_engine(scratch_server.url_for(name))
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    try:
        yield name
    finally:
        scratch_server.drop(name)


@pytest.fixture
def empty_db_url(scratch_server: ScratchServer) -> Iterator[str]:
    with scratch_server.database() as url:
        yield url


@pytest.fixture
def db_url(scratch_server: ScratchServer, migrated_template: str) -> Iterator[str]:
    """A fresh database at the head schema, dropped after the test."""
    with scratch_server.database(template=migrated_template) as url:
        yield url


@pytest.fixture
def sync_engine(db_url: str) -> Iterator[Engine]:
    engine = make_sync_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private data directory (settings, embedded server) for one test."""
    monkeypatch.setenv("DISPATCH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"
