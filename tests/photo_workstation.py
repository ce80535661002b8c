"""Another workstation, in a process of its own, for the photo round-trip test.

``python -m tests.photo_workstation attach URL WORK_ORDER PATH`` attaches a file through
the service, as the editor's Attach… does, and prints ``{"photo_id": …}``.

``python -m tests.photo_workstation await URL WORK_ORDER OUT`` follows the change feed
(printing ``{"event": "listening"}`` once live) until a photo of that work order arrives,
reads its record and full bytes as the editor would, writes the bytes to OUT and prints
what it found. Every line on stdout is one JSON object.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

from PIL import Image

from dispatch_app.db.change_feed import ChangeFeed, ChangeHint, FeedState, stop_feed
from dispatch_app.db.engine import make_async_engine, session_factory
from dispatch_app.services.work_order.photos import attach_photo_file, load_photo
from dispatch_app.services.work_order.record import load_record

EDITOR = "truck7"
TIMEOUT_S = 60


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


async def attach(url: str, work_order_id: int, path: str) -> None:
    engine = make_async_engine(url, editor=EDITOR)
    try:
        photo_id = await attach_photo_file(
            session_factory(engine), work_order_id=work_order_id, path=path
        )
    finally:
        await engine.dispose()
    say(photo_id=photo_id)


async def await_photo(url: str, work_order_id: int, out: str) -> None:
    engine = make_async_engine(url, editor=EDITOR)
    sessions = session_factory(engine)
    arrived = asyncio.Event()
    live = asyncio.Event()
    known = {p.id for p in (await load_record(sessions, work_order_id)).photos}

    def on_hints(hints: list[ChangeHint]) -> None:
        if any(h.table == "photos" and h.op == "insert" for h in hints):
            arrived.set()

    def on_state(state: FeedState, _since: object) -> None:
        if state == FeedState.LIVE:
            live.set()

    feed = ChangeFeed(url, on_hints=on_hints, on_state=on_state)
    task = asyncio.ensure_future(feed.run())
    try:
        await asyncio.wait_for(live.wait(), TIMEOUT_S)
        say(event="listening")
        while True:
            await asyncio.wait_for(arrived.wait(), TIMEOUT_S)
            arrived.clear()
            record = await load_record(sessions, work_order_id)
            new = [p for p in record.photos if p.id not in known]
            if new:
                break
        photo = new[0]
        full = await load_photo(sessions, photo_id=photo.id)
        Path(out).write_bytes(full.data)
        with Image.open(io.BytesIO(photo.thumbnail)) as thumb:
            thumbnail = list(thumb.size)
        say(
            photo_id=photo.id,
            filename=photo.filename,
            uploaded_by=photo.uploaded_by,
            byte_size=photo.byte_size,
            thumbnail=thumbnail,
        )
    finally:
        await stop_feed(feed, task)
        await engine.dispose()


def main(argv: list[str]) -> int:
    command, url, work_order, path = argv
    if command == "attach":
        asyncio.run(attach(url, int(work_order), path))
    elif command == "await":
        asyncio.run(await_photo(url, int(work_order), path))
    else:
        raise SystemExit(f"unknown command {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
