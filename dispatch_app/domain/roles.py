"""Who may do what: the company's roles, what each may do, and the sentence for a refusal.

Each person logs in to a shared server as their own PostgreSQL login, a member of one
group role. The groups nest: a viewer reads; a CSR also books calls; a dispatcher also
schedules, assigns and moves work through its statuses; a manager also keeps the price
book and job types; an admin also manages people and settings. The background worker is
a viewer that will also work the outbox. The database grants follow the table registry
(``domain/tables.py``), which names for each table the least role that may add, change
or remove its rows; this module says what the roles are and words the refusals. The
screens ask ``may`` only to hide what would be refused: PostgreSQL decides.

The single-PC (embedded) database has one local owner, ``Role.OWNER``, who may do all.
"""

from __future__ import annotations

import re
from enum import StrEnum

from dispatch_app.domain.vocabulary import WorkOrderStatus
from dispatch_app.errors import ConfigurationError


class Role(StrEnum):
    """A group a login belongs to; the value is the group's name without ``dispatch_``."""

    VIEWER = "viewer"
    WORKER = "worker"
    CSR = "csr"
    DISPATCHER = "dispatcher"
    MANAGER = "manager"
    ADMIN = "admin"
    OWNER = "owner"  # the single-PC database's one local owner, or the server's superuser

    @property
    def group(self) -> str:
        """The PostgreSQL group role."""
        return f"dispatch_{self.value}"

    @property
    def label(self) -> str:
        return _LABELS[self]

    def includes(self, other: Role) -> bool:
        """Whether this role has every right ``other`` has."""
        return other in _INCLUDED[self]


_LABELS = {
    Role.VIEWER: "Viewer",
    Role.WORKER: "Worker",
    Role.CSR: "CSR",
    Role.DISPATCHER: "Dispatcher",
    Role.MANAGER: "Manager",
    Role.ADMIN: "Admin",
    Role.OWNER: "Owner",
}

# Each group is a member of the one below it, so PostgreSQL passes the rights up.
LADDER = (Role.VIEWER, Role.CSR, Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
GROUPS = (*LADDER, Role.WORKER)
# The groups a group is made a member of (``GRANT below TO role``).
MEMBER_OF: dict[Role, Role] = {
    Role.CSR: Role.VIEWER,
    Role.DISPATCHER: Role.CSR,
    Role.MANAGER: Role.DISPATCHER,
    Role.ADMIN: Role.MANAGER,
    Role.WORKER: Role.VIEWER,
}


def _included(role: Role) -> frozenset[Role]:
    if role is Role.OWNER:
        return frozenset(Role)
    below = MEMBER_OF.get(role)
    return frozenset({role}) | (_included(below) if below else frozenset())


_INCLUDED = {role: _included(role) for role in Role}

OWNER_GROUP = "dispatch_owner"  # owns the tables; nobody logs in as it

# A person's login: what a workstation needs (three connections) twice over, so one
# person may have the board open on two PCs; a statement may run this long at most.
PERSON_CONNECTION_LIMIT = 6
STATEMENT_TIMEOUT = "30s"
IDLE_IN_TRANSACTION_TIMEOUT = "60s"

_LOGIN = re.compile(r"[a-z][a-z0-9_.]{1,40}")


def check_login_name(name: str) -> str:
    """A new login's name, as PostgreSQL will keep it; ``ConfigurationError`` if not one.

    Lower case letters, digits, ``_`` and ``.``, starting with a letter, 2–41 long, and
    never the ``dispatch_`` or ``pg_`` prefix (the server's and the app's own roles).
    """
    candidate = name.strip()
    if not _LOGIN.fullmatch(candidate) or candidate.startswith(("dispatch_", "pg_")):
        raise ConfigurationError(
            f"{name!r} cannot be a user name: use 2 to 41 lower-case letters, digits, "
            "'_' or '.', starting with a letter (for example jsmith or maria.g)."
        )
    return candidate


def role_named(name: str) -> Role:
    """The role a person types (``dispatcher``, ``CSR``); ``ConfigurationError`` if none."""
    wanted = name.strip().lower().removeprefix("dispatch_")
    for role in GROUPS:
        if role.value == wanted:
            return role
    choices = ", ".join(role.value for role in GROUPS)
    raise ConfigurationError(f"{name!r} is not a role: choose one of {choices}.")


class Action(StrEnum):
    """Something a screen offers that not every role may do; the value words a refusal."""

    BOOK_CALLS = "book calls or change customers"
    SCHEDULE = "schedule, move or reassign booked visits"
    CHANGE_STATUS = "change the status of work under way"
    REOPEN = "reopen finished work"
    CHARGES = "change labour, materials or time on a work order"
    BILL = "make or post invoices, or record payments"
    VOID_INVOICES = "void invoices or issue credit notes"
    STOCK = "receive, transfer or count stock"
    REMOVE_PHOTOS = "remove photos"
    PRICE_BOOK = "change the price book, job types or agreements"
    RESEND_MESSAGES = "resend customer messages"
    CANCEL_MESSAGES = "cancel customer messages"
    TEMPLATES = "change the customer message templates"
    SHIFTS = "change technicians' shifts"
    PEOPLE = "add or change users and technicians"
    SETTINGS = "change company settings"
    BACK_UP = "back up or restore the database"
    REPORTS = "see the company's reports"


# The least role that may do each action (the grants and guards in the database agree).
LEAST_ROLE: dict[Action, Role] = {
    Action.BOOK_CALLS: Role.CSR,
    Action.SCHEDULE: Role.DISPATCHER,
    Action.CHANGE_STATUS: Role.DISPATCHER,
    Action.REOPEN: Role.DISPATCHER,
    Action.CHARGES: Role.DISPATCHER,
    Action.BILL: Role.DISPATCHER,
    Action.VOID_INVOICES: Role.MANAGER,
    Action.STOCK: Role.DISPATCHER,
    Action.REMOVE_PHOTOS: Role.DISPATCHER,
    Action.PRICE_BOOK: Role.MANAGER,
    Action.RESEND_MESSAGES: Role.CSR,  # ``dispatch_resend_message`` asks for a CSR
    Action.CANCEL_MESSAGES: Role.DISPATCHER,
    Action.TEMPLATES: Role.MANAGER,
    Action.SHIFTS: Role.MANAGER,
    Action.PEOPLE: Role.ADMIN,
    Action.SETTINGS: Role.ADMIN,
    # pg_dump reads everything as one login: the single-PC owner's job (or a server's).
    Action.BACK_UP: Role.OWNER,
    # Every role may read the rows (the board needs them); the figures are a manager's.
    Action.REPORTS: Role.MANAGER,
}


def may(role: Role, action: Action) -> bool:
    return role.includes(LEAST_ROLE[action])


# A CSR ends work early (the customer cancels on the phone); moving it along its day,
# or back, is a dispatcher's (the database's guard says the same).
_ENDED_EARLY = frozenset({WorkOrderStatus.CANCELLED.value, WorkOrderStatus.NO_SHOW.value})


def may_set_status(role: Role, target: str) -> bool:
    if may(role, Action.CHANGE_STATUS):
        return True
    return may(role, Action.BOOK_CALLS) and target in _ENDED_EARLY


def refusal(role: Role, action: Action | str) -> str:
    """The sentence for something ``role`` may not do: "Your role (CSR) may not …"."""
    return f"Your role ({role.label}) may not {action}."
