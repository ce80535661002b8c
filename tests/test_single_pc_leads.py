"""On one PC the app is the worker too: once a lead token is set it takes web leads
itself, and without one it listens on nothing."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest
from PySide6.QtCore import QSize

from dispatch_app.config import DatabaseChoice, libpq_url
from dispatch_app.db.embedded import EmbeddedServer
from dispatch_app.services.database import migrate_now
from dispatch_app.services.leads.token import hash_token
from dispatch_app.ui.app import GuiOptions
from tests.companies import DAY, clock_at, small_company
from tests.qt_app import pump_until, wait_for

TOKEN = "a-long-enough-token-for-the-office-pc"


def _company(embedded_dir, *, token: bool) -> None:
    server = EmbeddedServer(embedded_dir)
    url = server.start()
    try:
        migrate_now(url)
        small_company(url)
        with psycopg.connect(libpq_url(url)) as db:
            settings = {"lead_endpoint": "127.0.0.1:0"}
            if token:
                settings["lead_token"] = hash_token(TOKEN)
            for key, value in settings.items():
                db.execute(
                    "INSERT INTO app_settings (key, value) VALUES (%s, %s::jsonb)",
                    (key, json.dumps(value)),
                )
    finally:
        server.stop()


def _options(embedded_dir) -> GuiOptions:
    return GuiOptions(
        database=DatabaseChoice(None, "embedded"),
        data_dir=embedded_dir,
        size=QSize(1400, 800),
        day=DAY,
        clock=clock_at(7),
    )


@pytest.mark.parametrize("token", [True, False], ids=["token set", "no token"])
def test_the_single_pc_app_takes_web_leads_once_a_token_is_set(
    loop, start, embedded_dir, settings_dir, token: bool
) -> None:
    _company(embedded_dir, token=token)
    app, task = start(_options(embedded_dir))
    wait_for(loop, app.loaded, task)
    workspace = app.workspace
    assert workspace is not None
    if not token:
        assert workspace.lead_endpoints == ()
        return
    pump_until(loop, lambda: len(workspace.lead_endpoints) == 1)
    (served,) = workspace.lead_endpoints
    answer = loop.run_until_complete(
        _post(
            served.url,
            {"phone": "(312) 555-0142", "name": "Dana Whitfield", "request": "No heat"},
        )
    )
    assert answer.status_code == 201
    with psycopg.connect(libpq_url(workspace.url)) as db:
        stored = db.execute("SELECT name, phone, source FROM leads").fetchall()
    assert stored == [("Dana Whitfield", "+13125550142", "web")]


async def _post(url: str, lead: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{url}/leads", json=lead, headers={"Authorization": f"Bearer {TOKEN}"}
        )
