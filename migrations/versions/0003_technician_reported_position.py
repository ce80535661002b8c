"""Technicians: the last position a GPS integration reported, and when.

Nothing in the app writes these yet: they are the slot a later GPS or telematics
integration fills. The map shows a technician at the reported position when it is newer
than what the day's visits say (see ``dispatch_app/services/map_positions.py``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("technicians", sa.Column("reported_lat", sa.Double(), nullable=True))
    op.add_column("technicians", sa.Column("reported_lon", sa.Double(), nullable=True))
    op.add_column(
        "technicians", sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True)
    )
    # A position is all three or nothing, and on the globe: the map trusts what it reads.
    op.create_check_constraint(
        op.f("ck_technicians_reported_position"),
        "technicians",
        "(reported_lat is null) = (reported_lon is null) "
        "and (reported_lat is null) = (reported_at is null) "
        "and (reported_lat is null or (reported_lat between -90 and 90 "
        "and reported_lon between -180 and 180))",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_technicians_reported_position"), "technicians", type_="check")
    op.drop_column("technicians", "reported_at")
    op.drop_column("technicians", "reported_lon")
    op.drop_column("technicians", "reported_lat")
