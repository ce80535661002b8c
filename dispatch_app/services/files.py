"""Reading a file a person names (a CSV to import): an ordinary file, bounded in size,
with one sentence for each way that goes wrong."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from dispatch_app.errors import ConfigurationError


def read_bounded_file(
    path: Path, *, most_bytes: int, too_big: Callable[[int], str | None]
) -> bytes:
    """The file's bytes, once it is known to be an ordinary file of a sensible size;
    ``too_big(size)`` says why a size is refused (None: it is not)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigurationError(f"There is no file {path}.") from None
    except OSError as error:
        raise ConfigurationError(f"{path} cannot be read ({error.strerror}).") from None
    # A pipe or a device is never opened: reading one could wait, or never end.
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"{path} is not an ordinary file.")
    problem = too_big(info.st_size)
    if problem:
        raise ConfigurationError(problem)
    try:
        with path.open("rb") as file:
            data = file.read(most_bytes + 1)  # a file growing meanwhile is still bounded
    except OSError as error:
        raise ConfigurationError(f"{path} cannot be read ({error.strerror}).") from None
    problem = too_big(len(data))
    if problem:
        raise ConfigurationError(problem)
    return data
