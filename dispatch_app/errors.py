"""Errors the user is told about in one sentence, with the exit code the CLI returns.

Anything raised as a ``UserFacingError`` reaches the user as its message alone (in a
dialog and on stderr), never as a traceback.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """A failure the user can act on; ``str(error)`` is the whole message."""

    exit_code = 2


class UnexpectedError(UserFacingError):
    """A failure nobody wrote a sentence for (a bug, or something unforeseen): the user
    reads that much and where the details are; the traceback goes to the log."""

    exit_code = 1


class OutputFailed(UserFacingError):
    """What a command prints could not be written (a full disk, a closed terminal)."""

    exit_code = 1


class ConfigurationError(UserFacingError):
    """A setting, command-line option or environment variable is malformed."""


class DatabaseUnreachable(UserFacingError):
    """The database server cannot be reached or refuses the login."""

    exit_code = 3


class LoginRefused(DatabaseUnreachable):
    """The server wants a password, or refused the user name and password given."""


class ForeignDatabase(UserFacingError):
    """The database holds tables of some other application."""

    exit_code = 4


class SchemaBehind(UserFacingError):
    """The database schema is older than this version of the app needs."""

    exit_code = 5


class SchemaAhead(UserFacingError):
    """The database schema is newer than this version of the app knows."""

    exit_code = 5


class UpgradeBlocked(UserFacingError):
    """The database holds records a new schema rule refuses; they need a person's
    decision before the upgrade can run (the message names them)."""

    exit_code = 5


class DataDirectoryError(UserFacingError):
    """The app's data directory cannot be created or written."""

    exit_code = 6


class EmbeddedServerError(UserFacingError):
    """The private embedded PostgreSQL server could not be started or stopped."""

    exit_code = 7


class ConflictError(UserFacingError):
    """Someone else changed the row since the user saw it; nothing was written.

    ``current`` carries what the row holds now (a plain dict of its fields, or ``None``
    when the row is gone), so an editor can offer to reload or reapply.
    """

    exit_code = 8

    def __init__(self, message: str, *, current: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.current = current


class NoSuchRecord(ConflictError):
    """An id names no row: it never existed (an id no table can hold, such as 2**63), or
    the row is gone. ``current`` is ``None``, as for a row someone else deleted."""


class PermissionDenied(UserFacingError):
    """The database refused this login something its roles are not granted."""

    exit_code = 9


class ValidationError(UserFacingError):
    """Input that cannot be saved as typed; ``fields`` maps each field to its sentence."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(" ".join(fields.values()))
        self.fields = fields


class PlacementRefused(UserFacingError):
    """A visit would overlap another visit of one of its technicians; nothing was written.

    ``visit_id``, ``other_visit_id`` and ``technician_id`` name the clash, so the board
    can point at it.
    """

    def __init__(
        self, message: str, *, visit_id: int, other_visit_id: int, technician_id: int
    ) -> None:
        super().__init__(message)
        self.visit_id = visit_id
        self.other_visit_id = other_visit_id
        self.technician_id = technician_id


class BackupError(UserFacingError):
    """A backup could not be written, or a backup file could not be read or restored."""

    exit_code = 10


class BooksRefused(UserFacingError):
    """The database's rules for invoices, payments and stock refused a change (SQLSTATE
    ``DB001``): a posted invoice is locked, a payment above the balance… The message is
    the database's own sentence."""


class ShortStock(UserFacingError):
    """A location has fewer of a part than a movement takes (SQLSTATE ``DB002``); the
    user may confirm a miscount and take it anyway. ``on_hand`` is what the books say."""

    def __init__(self, message: str, *, on_hand: str = "0") -> None:
        super().__init__(message)
        self.on_hand = on_hand
