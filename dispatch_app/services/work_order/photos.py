"""Photos of a work order: checked from the header before a pixel is decoded, stored
with a thumbnail, the full picture read only for the full view.

Pillow's decoding runs in a worker thread (``asyncio.to_thread``) so a 15 MB photo
never stalls the loop.
"""

from __future__ import annotations

import asyncio
import io
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dispatch_app.db.models import (
    MAX_PHOTO_BYTES,
    Photo,
)
from dispatch_app.domain.ids import require_row_id
from dispatch_app.domain.text_rules import checked_text
from dispatch_app.domain.work_order_record import (
    CAPTION_TEXT,
    FILENAME_TEXT,
    photo_size_problem,
)
from dispatch_app.errors import ConflictError, ValidationError
from dispatch_app.services.work_order.common import open_order
from dispatch_app.services.work_order.rows import (
    PhotoFile,
)

# Thumbnails fit in this square: sharp in a grid of ~180 px tiles on a high-DPI screen.
THUMBNAIL_SIDE = 256
# A phone's largest ordinary pictures are its 48 or 50 megapixel mode and panoramas of
# up to 63 megapixels; beyond 64 a "photo" is a scan, a render or a decompression bomb
# (a 32 KB PNG can claim 10,000 x 10,000 pixels and take over 600 MB to check). The size is
# read from the file's header and refused before a single pixel is decoded.
MAX_PHOTO_PIXELS = 64_000_000
# The same limit for anything Pillow opens in this process: above twice it, opening
# raises instead of decoding. (Between once and twice it warns; ``inspect_photo``
# refuses those itself, so the warning would only be noise on the console.)
Image.MAX_IMAGE_PIXELS = MAX_PHOTO_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
PHOTO_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}


async def load_photo(sessions: async_sessionmaker[AsyncSession], *, photo_id: int) -> PhotoFile:
    """One photo's full bytes (for the full view); ``ConflictError`` if it was removed."""
    require_row_id(photo_id, "photo")
    async with sessions() as session:
        row = (
            await session.execute(
                select(
                    Photo.id,
                    Photo.filename,
                    Photo.content_type,
                    Photo.width,
                    Photo.height,
                    Photo.data,
                ).where(Photo.id == photo_id)
            )
        ).one_or_none()
    if row is None:
        raise ConflictError("That photo was removed by someone else.")
    return PhotoFile(row.id, row.filename, row.content_type, row.width, row.height, row.data)


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    content_type: str
    width: int
    height: int
    thumbnail: bytes


def inspect_photo(data: bytes, filename: str) -> PhotoFacts:
    """Decode the whole picture (a renamed text file or a cut-off JPEG fails here) and
    make its thumbnail. Blocking: call it in a worker thread. Raises ``ValidationError``.

    ``Image.open`` reads only the header: the kind and the size are checked there, and
    a picture larger than ``MAX_PHOTO_PIXELS`` is refused before anything is decoded.
    """

    def refuse(sentence: str) -> ValidationError:
        return ValidationError({"photo": sentence})

    most = f"{MAX_PHOTO_PIXELS // 1_000_000} megapixels"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            if kind not in PHOTO_TYPES:
                raise refuse(
                    f"{filename} is a {kind or 'kind of'} picture the other workstations "
                    "may not show; attach a JPEG, PNG, WebP or GIF."
                )
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                raise refuse(
                    f"{filename} is {width:,} × {height:,} pixels; a photo can have at most "
                    f"{most}. Send a smaller copy (most phones can share a reduced size)."
                )
            image.load()  # decodes every byte: a truncated file fails here
            upright = ImageOps.exif_transpose(image)
            has_alpha = upright.mode in ("RGBA", "LA") or (
                upright.mode == "P" and "transparency" in upright.info
            )
            thumb = upright.convert("RGBA" if has_alpha else "RGB")
            thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if has_alpha:
                thumb.save(out, "PNG", optimize=True)
            else:
                thumb.save(out, "JPEG", quality=85, optimize=True)
    except ValidationError:
        raise
    except Image.DecompressionBombError:  # over twice the limit: Pillow refused to open it
        raise refuse(
            f"{filename} has far more pixels than a photo can have (at most {most})."
        ) from None
    except UnidentifiedImageError:
        raise refuse(f"{filename} is not a picture (it could not be read as an image).") from None
    except (OSError, ValueError, SyntaxError) as error:
        # Pillow says "image file is truncated", "broken data stream", …
        raise refuse(
            f"{filename} is damaged or incomplete and cannot be shown ({error})."
        ) from None
    return PhotoFacts(PHOTO_TYPES[kind], width, height, out.getvalue())


async def attach_photo(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    filename: str,
    data: bytes,
    caption: str = "",
) -> int:
    """Store a photo with its thumbnail; returns its id.

    Refused with one sentence (``ValidationError`` field ``photo`` or ``caption``) when it
    is empty, larger than ``MAX_PHOTO_BYTES``, or not a decodable JPEG/PNG/WebP/GIF.
    """
    typed = os.path.basename(filename.replace("\\", "/")) if isinstance(filename, str) else ""
    name, problem = checked_text("The file name", typed, FILENAME_TEXT, required=True)
    if problem:
        raise ValidationError({"photo": problem})
    problem = photo_size_problem(name, len(data), MAX_PHOTO_BYTES)
    if problem:
        raise ValidationError({"photo": problem})
    caption, problem = checked_text("The caption", caption, CAPTION_TEXT)
    if problem:
        raise ValidationError({"caption": problem})
    facts = await asyncio.to_thread(inspect_photo, data, name)
    async with sessions() as session, session.begin():
        await open_order(session, work_order_id, what="the photo was not attached")
        return int(
            await session.scalar(
                insert(Photo)
                .values(
                    work_order_id=work_order_id,
                    filename=name,
                    content_type=facts.content_type,
                    byte_size=len(data),
                    width=facts.width,
                    height=facts.height,
                    data=data,
                    thumbnail=facts.thumbnail,
                    caption=caption,
                )
                .returning(Photo.id)
            )
            or 0
        )


def _read_photo_file(path: Path) -> bytes:
    """The file's bytes, if it is an ordinary file on disk no larger than a photo may be.

    A folder, a device (``/dev/zero`` never ends), a pipe (it would wait forever for a
    writer) or a socket is refused from its ``stat`` before it is opened, and again on
    the opened file (it may have been swapped meanwhile). A system file whose listed
    size is not its content (``/proc/self/environ`` lists 0 bytes) is refused too. At
    most ``MAX_PHOTO_BYTES`` + 1 bytes are ever read.
    """
    name = path.name or str(path)
    try:
        _refuse_unless_regular(name, os.stat(path).st_mode)
        # Non-blocking: a pipe put in its place since cannot hold the open up.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        descriptor = os.open(path, flags)
        with os.fdopen(descriptor, "rb") as file:
            listed = os.fstat(file.fileno())
            _refuse_unless_regular(name, listed.st_mode)
            problem = photo_size_problem(name, listed.st_size, MAX_PHOTO_BYTES)
            if problem and listed.st_size:  # said before reading: a 2 GB video stays put
                raise ValidationError({"photo": problem})
            data = file.read(MAX_PHOTO_BYTES + 1)
    except OSError as error:
        raise ValidationError(
            {"photo": f"{name} could not be read ({error.strerror or error})."}
        ) from None
    if len(data) != listed.st_size:
        if listed.st_size == 0:
            raise ValidationError(
                {"photo": f"{name} is not a file on disk but a system file; attach a photo."}
            )
        raise ValidationError(
            {"photo": f"{name} changed while it was read; attach it again once it is saved."}
        )
    return data


def _refuse_unless_regular(name: str, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ValidationError({"photo": f"{name} is a folder, not a photo."})
    raise ValidationError(
        {"photo": f"{name} is not a file (it is a device, a pipe or a socket); attach a photo."}
    )


async def attach_photo_file(
    sessions: async_sessionmaker[AsyncSession],
    *,
    work_order_id: int,
    path: str | os.PathLike[str],
    caption: str = "",
) -> int:
    """``attach_photo`` for a file on disk (Attach…, a drop); read off the event loop."""
    file = Path(path)
    data = await asyncio.to_thread(_read_photo_file, file)
    return await attach_photo(
        sessions, work_order_id=work_order_id, filename=file.name, data=data, caption=caption
    )


async def remove_photo(sessions: async_sessionmaker[AsyncSession], *, photo_id: int) -> None:
    require_row_id(photo_id, "photo")
    async with sessions() as session, session.begin():
        await session.execute(delete(Photo).where(Photo.id == photo_id))
