"""The indexes the managers' reports read by (``services/reports``).

- ``invoices``: the posted bills by the moment they were posted, carrying what each
  report sums (work order, total, credited), so a year of revenue is read from the index
  alone; drafts, void invoices and credit notes are left out of it, as revenue leaves
  them out.
- ``status_history``: the steps to one status by time, with their work order (the jobs
  completed, cancelled or a no-show in a period, read from the index alone), and one
  work order's steps to one status (whether it had one before a period).
- ``work_orders``: by the moment booked (what was still open at a period's end).
- ``time_entries``: by the moment started (hours on the clock in a period).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of what revenue counts (domain/reports); a migration never follows the code.
POSTED = "status not in ('draft', 'void') and kind <> 'credit'"


def upgrade() -> None:
    op.create_index(
        "ix_invoices_posted_revenue",
        "invoices",
        ["posted_at"],
        unique=False,
        postgresql_include=["work_order_id", "total", "credited"],
        postgresql_where=sa.text(POSTED),
    )
    op.create_index(
        "ix_status_history_step",
        "status_history",
        ["to_status", "changed_at"],
        unique=False,
        postgresql_include=["work_order_id"],
    )
    op.create_index(
        "ix_status_history_work_order_step",
        "status_history",
        ["work_order_id", "to_status", "changed_at"],
    )
    op.create_index("ix_work_orders_created_at", "work_orders", ["created_at"])
    op.create_index("ix_time_entries_started_at", "time_entries", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_time_entries_started_at", table_name="time_entries")
    op.drop_index("ix_work_orders_created_at", table_name="work_orders")
    op.drop_index("ix_status_history_work_order_step", table_name="status_history")
    op.drop_index("ix_status_history_step", table_name="status_history")
    op.drop_index("ix_invoices_posted_revenue", table_name="invoices")
