"""Money and stock: the price book, stock locations and their ledger, invoices with
their lines, and payments — with the rules that keep the books honest as triggers.

- **Stock**: every movement is a row of ``stock_movements`` (never changed nor removed);
  ``dispatch_stock_move`` keeps ``stock_levels`` (on hand and moving-average cost per
  part and location) as the ledger's sum, under a row lock, so two workstations taking
  the last unit cannot both succeed; going below zero needs ``confirmed_short``. Issues
  leave at the location's average cost; receipts move the average.
- **Invoices**: ``dispatch_invoice_guard`` keeps the totals the sums of the lines (tax
  rounded once per invoice, half away from zero), numbers an invoice when it is posted,
  and locks it from then on: only payments and credit notes move its balance, its
  status follows from them, and voiding (a manager's) needs a reason and no money on it.
  **Numbers have no gaps**: posting takes a transaction-level advisory lock and the
  highest number so far, so a posting that fails gives its number back with its
  transaction; a voided invoice keeps its number. The first number is the
  ``invoice_first_number`` setting (1001 unless set before the first posting).
- **Payments** are added only to posted invoices, never above the balance, refunds
  (negative, with a reason) never above what was paid, and never changed or removed.

Business refusals carry SQLSTATE ``DB001`` and the sentence the app shows.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Raised by every rule below: ``dispatch_app.errors.BooksRefused`` shows the message.
BOOKS = """
CREATE FUNCTION dispatch_books_refuse(message text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'DB001', MESSAGE = message;
END
$$
"""

STOCK_MOVE = """
CREATE FUNCTION dispatch_stock_move() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    level stock_levels%ROWTYPE;
    part parts%ROWTYPE;
    place text;
    after numeric;
    average numeric;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM dispatch_books_refuse(
            'A stock movement is never changed or removed; record another to correct it.');
    END IF;
    SELECT * INTO part FROM parts WHERE id = NEW.part_id;
    IF part.kind IS DISTINCT FROM 'part' THEN
        PERFORM dispatch_books_refuse(format('%s is a service; only parts are kept in stock.',
                                             part.name));
    END IF;
    NEW.moved_by := dispatch_editor();
    NEW.moved_at := now();
    INSERT INTO stock_levels (location_id, part_id) VALUES (NEW.location_id, NEW.part_id)
        ON CONFLICT (location_id, part_id) DO NOTHING;
    SELECT * INTO level FROM stock_levels
        WHERE location_id = NEW.location_id AND part_id = NEW.part_id FOR UPDATE;
    after := level.on_hand + NEW.quantity;
    IF NEW.quantity < 0 AND after < 0 AND NOT NEW.confirmed_short THEN
        SELECT name INTO place FROM stock_locations WHERE id = NEW.location_id;
        RAISE EXCEPTION USING ERRCODE = 'DB002',
            MESSAGE = format('%s has %s of %s (%s) on hand, not %s.', place,
                             trim_scale(greatest(level.on_hand, 0)), part.name, part.sku,
                             trim_scale(-NEW.quantity)),
            DETAIL = format('short:%s', trim_scale(greatest(level.on_hand, 0)));
    END IF;
    average := level.average_cost;
    IF NEW.quantity > 0 THEN
        -- Returns come back at the average; receipts at what they cost.
        NEW.unit_cost := coalesce(NEW.unit_cost, level.average_cost);
        IF after > 0 THEN
            average := (greatest(level.on_hand, 0) * level.average_cost
                        + NEW.quantity * NEW.unit_cost) / (greatest(level.on_hand, 0) + NEW.quantity);
        END IF;
    ELSE
        NEW.unit_cost := level.average_cost;  -- what leaves goes at the average cost
    END IF;
    UPDATE stock_levels SET on_hand = after, average_cost = round(average, 4)
        WHERE id = level.id;
    RETURN NEW;
END
$$
"""

# Every technician has a truck, named in the order technicians were added.
TRUCKS = """
CREATE FUNCTION dispatch_truck_for_technician() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer := (SELECT count(*) FROM stock_locations WHERE kind = 'truck') + 1;
BEGIN
    WHILE EXISTS (SELECT 1 FROM stock_locations WHERE name = 'Truck ' || n) LOOP
        n := n + 1;
    END LOOP;
    INSERT INTO stock_locations (name, kind, technician_id) VALUES ('Truck ' || n, 'truck', NEW.id)
        ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$
"""

INVOICE_GUARD = """
CREATE FUNCTION dispatch_invoice_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    sums record;
    original invoices%ROWTYPE;
    setting text;
    first_number integer := 1001;
    label text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            PERFORM dispatch_books_refuse(format(
                '%s was posted and is kept; void it or issue a credit note.', OLD.number));
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            PERFORM dispatch_books_refuse('An invoice starts as a draft.');
        END IF;
        IF NEW.kind = 'credit' THEN
            IF NOT dispatch_may('manager') THEN
                PERFORM dispatch_refuse('issue credit notes');
            END IF;
            SELECT * INTO original FROM invoices WHERE id = NEW.credit_of_id;
            IF original.status NOT IN ('posted', 'partly_paid', 'paid') OR original.kind = 'credit'
               OR original.work_order_id <> NEW.work_order_id THEN
                PERFORM dispatch_books_refuse(
                    'A credit note is issued against a posted invoice of the same work order.');
            END IF;
        END IF;
        NEW.serial := NULL; NEW.number := NULL; NEW.paid := 0; NEW.credited := 0;
        NEW.subtotal := 0; NEW.taxable_subtotal := 0; NEW.tax := 0; NEW.total := 0;
        NEW.posted_by := NULL; NEW.posted_at := NULL; NEW.voided_by := NULL; NEW.voided_at := NULL;
        NEW.created_by := dispatch_editor(); NEW.created_at := now();
        RETURN NEW;
    END IF;
    label := coalesce(OLD.number, 'The draft');
    IF OLD.status = 'void' THEN
        PERFORM dispatch_books_refuse(format('%s is void; it cannot change.', label));
    END IF;
    IF OLD.status = 'draft' THEN
        IF NEW.status NOT IN ('draft', 'posted') THEN
            PERFORM dispatch_books_refuse(
                'A draft is posted before it is paid; delete a draft that is not wanted.');
        END IF;
        NEW.serial := NULL; NEW.number := NULL; NEW.paid := 0; NEW.credited := 0;
        NEW.work_order_id := OLD.work_order_id; NEW.customer_id := OLD.customer_id;
        NEW.kind := OLD.kind; NEW.credit_of_id := OLD.credit_of_id;
        NEW.created_by := OLD.created_by; NEW.created_at := OLD.created_at;
        NEW.posted_by := NULL; NEW.posted_at := NULL; NEW.voided_by := NULL; NEW.voided_at := NULL;
        SELECT count(*) AS lines, coalesce(sum(amount), 0) AS subtotal,
               coalesce(sum(amount) FILTER (WHERE taxable), 0) AS taxable
            INTO sums FROM invoice_lines WHERE invoice_id = NEW.id;
        NEW.subtotal := sums.subtotal;
        NEW.taxable_subtotal := sums.taxable;
        NEW.tax := round(sums.taxable * NEW.tax_rate, 2);
        NEW.total := NEW.subtotal + NEW.tax;
        IF NEW.status = 'draft' THEN
            RETURN NEW;
        END IF;
        -- Posting.
        IF sums.lines = 0 THEN
            PERFORM dispatch_books_refuse('An invoice without lines cannot be posted.');
        END IF;
        IF NEW.kind = 'credit' THEN
            IF NOT dispatch_may('manager') THEN
                PERFORM dispatch_refuse('issue credit notes');
            END IF;
            SELECT * INTO original FROM invoices WHERE id = NEW.credit_of_id FOR UPDATE;
            IF NEW.total >= 0 THEN
                PERFORM dispatch_books_refuse('A credit note takes money off: its total is below zero.');
            END IF;
            IF -NEW.total > original.total - original.credited THEN
                PERFORM dispatch_books_refuse(format(
                    'A credit note cannot take off more than %s still bills (%s).',
                    original.number, original.total - original.credited));
            END IF;
        ELSIF NEW.total < 0 THEN
            PERFORM dispatch_books_refuse(
                'An invoice cannot total less than zero; issue a credit note instead.');
        END IF;
        -- One posting at a time takes the next number, so there are no gaps: a posting
        -- that fails gives its number back with its transaction.
        PERFORM pg_advisory_xact_lock(hashtext('dispatch invoice numbers'));
        SELECT value #>> '{}' INTO setting FROM app_settings WHERE key = 'invoice_first_number';
        IF setting ~ '^[0-9]{1,9}$' THEN
            first_number := setting::integer;
        END IF;
        NEW.serial := greatest(coalesce((SELECT max(serial) FROM invoices), 0) + 1, first_number);
        NEW.number := 'INV-' || NEW.serial;
        NEW.posted_by := dispatch_editor();
        NEW.posted_at := now();
        NEW.issued_on := coalesce(NEW.issued_on, current_date);
        NEW.due_on := coalesce(NEW.due_on, NEW.issued_on);
        IF NEW.kind = 'credit' THEN
            UPDATE invoices SET credited = credited - NEW.total WHERE id = NEW.credit_of_id;
        ELSIF NEW.total = 0 THEN
            NEW.status := 'paid';  -- a final invoice the deposits covered
        END IF;
        RETURN NEW;
    END IF;
    -- Posted: locked. Only payments and credit notes (through their own triggers) and
    -- a manager's void change it.
    IF (NEW.serial, NEW.number, NEW.work_order_id, NEW.customer_id, NEW.kind,
        NEW.credit_of_id, NEW.tax_rate, NEW.subtotal, NEW.taxable_subtotal, NEW.tax,
        NEW.total, NEW.issued_on, NEW.due_on, NEW.terms, NEW.memo, NEW.created_by,
        NEW.created_at, NEW.posted_by, NEW.posted_at)
       IS DISTINCT FROM
       (OLD.serial, OLD.number, OLD.work_order_id, OLD.customer_id, OLD.kind,
        OLD.credit_of_id, OLD.tax_rate, OLD.subtotal, OLD.taxable_subtotal, OLD.tax,
        OLD.total, OLD.issued_on, OLD.due_on, OLD.terms, OLD.memo, OLD.created_by,
        OLD.created_at, OLD.posted_by, OLD.posted_at) THEN
        PERFORM dispatch_books_refuse(format(
            '%s is posted and cannot change; correct it with a credit note or a new invoice.',
            label));
    END IF;
    -- What was paid and credited moves only with a payment or a credit note (whose
    -- triggers update it, one trigger level down), never by hand.
    IF pg_trigger_depth() = 1 AND (NEW.paid, NEW.credited) IS DISTINCT FROM (OLD.paid, OLD.credited)
    THEN
        PERFORM dispatch_books_refuse(format(
            '%s: what was paid or credited changes only with a payment or a credit note.',
            label));
    END IF;
    IF pg_trigger_depth() = 1 AND NEW.status IS DISTINCT FROM OLD.status
       AND NEW.status <> 'void' THEN
        PERFORM dispatch_books_refuse(format(
            '%s: the status of a posted invoice follows its payments; void it to cancel it.',
            label));
    END IF;
    IF NEW.status = 'void' AND OLD.status <> 'void' THEN
        IF NOT dispatch_may('manager') THEN
            PERFORM dispatch_refuse('void invoices');
        END IF;
        IF OLD.kind = 'credit' THEN
            PERFORM dispatch_books_refuse('A posted credit note stays; bill again with a new invoice.');
        END IF;
        IF OLD.paid <> 0 OR OLD.credited <> 0 OR NEW.paid <> 0 OR NEW.credited <> 0 THEN
            PERFORM dispatch_books_refuse(format(
                '%s has payments or credits on it; refund them or issue a credit note instead.',
                label));
        END IF;
        IF coalesce(btrim(NEW.void_reason), '') = '' THEN
            PERFORM dispatch_books_refuse('Say why the invoice is void.');
        END IF;
        NEW.voided_by := dispatch_editor();
        NEW.voided_at := now();
        RETURN NEW;
    END IF;
    NEW.void_reason := OLD.void_reason; NEW.voided_by := OLD.voided_by;
    NEW.voided_at := OLD.voided_at;
    IF NEW.kind = 'credit' THEN
        NEW.status := 'posted';
    ELSE
        NEW.status := CASE
            WHEN NEW.total - NEW.paid - NEW.credited <= 0 THEN 'paid'
            WHEN NEW.paid + NEW.credited > 0 THEN 'partly_paid'
            ELSE 'posted' END;
    END IF;
    RETURN NEW;
END
$$
"""

# Lines change only on a draft; the amount is the database's, and the invoice's totals
# follow every change (the invoice's guard sums them).
INVOICE_LINE_GUARD = """
CREATE FUNCTION dispatch_invoice_line_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    state text;
    label text;
    kind text;
BEGIN
    FOR state, label, kind IN
        SELECT status, coalesce(number, 'The invoice'), invoices.kind FROM invoices
        WHERE id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.invoice_id END,
                     CASE WHEN TG_OP <> 'DELETE' THEN NEW.invoice_id END)
    LOOP
        IF state <> 'draft' THEN
            PERFORM dispatch_books_refuse(format(
                '%s is posted; its lines cannot change — correct it with a credit note.', label));
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    NEW.amount := round(NEW.quantity * NEW.unit_price, 2);
    RETURN NEW;
END
$$
"""

INVOICE_LINE_TOTALS = """
CREATE FUNCTION dispatch_invoice_line_totals() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE invoices SET tax_rate = tax_rate
        WHERE id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.invoice_id END,
                     CASE WHEN TG_OP <> 'DELETE' THEN NEW.invoice_id END)
          AND status = 'draft';
    RETURN NULL;
END
$$
"""

PAYMENT_GUARD = """
CREATE FUNCTION dispatch_payment_guard() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    bill invoices%ROWTYPE;
    balance numeric;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM dispatch_books_refuse(
            'A payment is never changed or removed; record a refund to correct it.');
    END IF;
    SELECT * INTO bill FROM invoices WHERE id = NEW.invoice_id FOR UPDATE;
    IF bill.kind = 'credit' THEN
        PERFORM dispatch_books_refuse('A credit note takes no payments.');
    END IF;
    IF bill.status NOT IN ('posted', 'partly_paid', 'paid') THEN
        PERFORM dispatch_books_refuse(format('Payments are taken on posted invoices; %s is %s.',
            coalesce(bill.number, 'this one'), replace(bill.status, '_', ' ')));
    END IF;
    balance := bill.total - bill.paid - bill.credited;
    IF NEW.amount > 0 AND NEW.amount > balance THEN
        PERFORM dispatch_books_refuse(format('%s is more than the balance of %s (%s).',
            NEW.amount, bill.number, greatest(balance, 0)));
    END IF;
    IF NEW.amount < 0 AND bill.paid + NEW.amount < 0 THEN
        PERFORM dispatch_books_refuse(format('A refund cannot be more than was paid on %s (%s).',
            bill.number, bill.paid));
    END IF;
    NEW.recorded_by := dispatch_editor();
    NEW.recorded_at := now();
    UPDATE invoices SET paid = paid + NEW.amount WHERE id = NEW.invoice_id;
    RETURN NEW;
END
$$
"""

FUNCTIONS = (
    BOOKS,
    STOCK_MOVE,
    TRUCKS,
    INVOICE_GUARD,
    INVOICE_LINE_GUARD,
    INVOICE_LINE_TOTALS,
    PAYMENT_GUARD,
)

TRIGGERS = (
    "CREATE TRIGGER stock_movements_ledger BEFORE INSERT OR UPDATE OR DELETE ON stock_movements "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_stock_move()",
    "CREATE TRIGGER technicians_truck AFTER INSERT ON technicians "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_truck_for_technician()",
    "CREATE TRIGGER invoices_guard BEFORE INSERT OR UPDATE OR DELETE ON invoices "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_invoice_guard()",
    "CREATE TRIGGER invoice_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_invoice_line_guard()",
    "CREATE TRIGGER invoice_lines_totals AFTER INSERT OR UPDATE OR DELETE ON invoice_lines "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_invoice_line_totals()",
    "CREATE TRIGGER payments_guard BEFORE INSERT OR UPDATE OR DELETE ON payments "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_payment_guard()",
)

PART_CHECKS = (
    ("kind", "kind in ('part', 'service')"),
    ("trade", "trade is null or trade in ('hvac', 'plumbing', 'electrical', 'roofing')"),
    ("cost_non_negative", "cost >= 0"),
    ("sku_length", "length(sku) between 1 and 40"),
    ("name_length", "length(name) between 1 and 200"),
    ("unit_length", "length(unit) between 1 and 20"),
)


def upgrade() -> None:
    op.create_table(
        "job_type_parts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("job_type_id", sa.BigInteger(), nullable=False),
        sa.Column("part_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "quantity", sa.Numeric(precision=10, scale=2), server_default="1", nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_job_type_parts_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["job_type_id"],
            ["job_types.id"],
            name=op.f("fk_job_type_parts_job_type_id_job_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["part_id"],
            ["parts.id"],
            name=op.f("fk_job_type_parts_part_id_parts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_type_parts")),
        sa.UniqueConstraint("job_type_id", "part_id", name=op.f("uq_job_type_parts_job_type_id")),
    )
    op.create_index(op.f("ix_job_type_parts_part_id"), "job_type_parts", ["part_id"], unique=False)
    op.create_table(
        "stock_locations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default="warehouse", nullable=False),
        sa.Column("technician_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind = 'truck' or technician_id is null",
            name=op.f("ck_stock_locations_only_trucks_have_drivers"),
        ),
        sa.CheckConstraint("kind in ('warehouse', 'truck')", name=op.f("ck_stock_locations_kind")),
        sa.CheckConstraint(
            "length(name) between 1 and 100", name=op.f("ck_stock_locations_name_length")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_stock_locations_technician_id_technicians"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_locations")),
        sa.UniqueConstraint("name", name=op.f("uq_stock_locations_name")),
        sa.UniqueConstraint("technician_id", name=op.f("uq_stock_locations_technician_id")),
    )
    op.create_table(
        "stock_levels",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("part_id", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False),
        sa.Column(
            "average_cost", sa.Numeric(precision=12, scale=4), server_default="0", nullable=False
        ),
        sa.Column(
            "reorder_point", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "reorder_point >= 0", name=op.f("ck_stock_levels_reorder_point_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_stock_levels_location_id_stock_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["part_id"], ["parts.id"], name=op.f("fk_stock_levels_part_id_parts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_levels")),
        sa.UniqueConstraint("location_id", "part_id", name=op.f("uq_stock_levels_location_id")),
    )
    op.create_index(op.f("ix_stock_levels_part_id"), "stock_levels", ["part_id"], unique=False)
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=True),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("work_order_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), server_default="standard", nullable=False),
        sa.Column("status", sa.Text(), server_default="draft", nullable=False),
        sa.Column("credit_of_id", sa.BigInteger(), nullable=True),
        sa.Column("tax_rate", sa.Numeric(precision=6, scale=4), server_default="0", nullable=False),
        sa.Column(
            "subtotal", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False
        ),
        sa.Column(
            "taxable_subtotal",
            sa.Numeric(precision=12, scale=2),
            server_default="0",
            nullable=False,
        ),
        sa.Column("tax", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("total", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("paid", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column(
            "credited", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False
        ),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("terms", sa.Text(), server_default="", nullable=False),
        sa.Column("memo", sa.Text(), server_default="", nullable=False),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column(
            "created_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("posted_by", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.Text(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'credit') = (credit_of_id is not null)",
            name=op.f("ck_invoices_credit_names_invoice"),
        ),
        sa.CheckConstraint(
            "(status = 'draft') = (serial is null)", name=op.f("ck_invoices_numbered_when_posted")
        ),
        sa.CheckConstraint(
            "kind in ('standard', 'deposit', 'progress', 'final', 'credit')",
            name=op.f("ck_invoices_kind"),
        ),
        sa.CheckConstraint(
            "status <> 'void' or coalesce(btrim(void_reason), '') <> ''",
            name=op.f("ck_invoices_void_says_why"),
        ),
        sa.CheckConstraint(
            "status in ('draft', 'posted', 'partly_paid', 'paid', 'void')",
            name=op.f("ck_invoices_status"),
        ),
        sa.CheckConstraint(
            "length(terms) <= 2000 and length(memo) <= 2000", name=op.f("ck_invoices_text_length")
        ),
        sa.CheckConstraint(
            "tax_rate >= 0 and tax_rate < 1", name=op.f("ck_invoices_tax_rate_range")
        ),
        sa.CheckConstraint(
            "void_reason is null or length(void_reason) <= 500",
            name=op.f("ck_invoices_void_reason_length"),
        ),
        sa.ForeignKeyConstraint(
            ["credit_of_id"], ["invoices.id"], name=op.f("fk_invoices_credit_of_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_invoices_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_invoices_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("serial", name=op.f("uq_invoices_serial")),
    )
    op.create_index(op.f("ix_invoices_customer_id"), "invoices", ["customer_id"], unique=False)
    op.create_index(
        "ix_invoices_unpaid",
        "invoices",
        ["issued_on"],
        unique=False,
        postgresql_where=sa.text("status in ('posted', 'partly_paid')"),
    )
    op.create_index(op.f("ix_invoices_work_order_id"), "invoices", ["work_order_id"], unique=False)
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("part_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("work_order_id", sa.BigInteger(), nullable=True),
        sa.Column("line_item_id", sa.BigInteger(), nullable=True),
        sa.Column("transfer_id", sa.Uuid(), nullable=True),
        sa.Column("confirmed_short", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "moved_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "moved_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "reason <> 'count' or btrim(note) <> ''", name=op.f("ck_stock_movements_count_says_why")
        ),
        sa.CheckConstraint(
            "reason in ('received', 'transfer', 'count', 'used', 'returned')",
            name=op.f("ck_stock_movements_reason"),
        ),
        sa.CheckConstraint("length(note) <= 500", name=op.f("ck_stock_movements_note_length")),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_stock_movements_quantity_not_zero")),
        sa.CheckConstraint(
            "unit_cost is null or unit_cost >= 0", name=op.f("ck_stock_movements_cost_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["stock_locations.id"],
            name=op.f("fk_stock_movements_location_id_stock_locations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["part_id"],
            ["parts.id"],
            name=op.f("fk_stock_movements_part_id_parts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_stock_movements_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index(
        "ix_stock_movements_place",
        "stock_movements",
        ["location_id", "part_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_stock_movements_work_order_id"), "stock_movements", ["work_order_id"], unique=False
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("line_item_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("taxable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind in ('labour', 'material', 'fee', 'deposit', 'less_billed', 'credit')",
            name=op.f("ck_invoice_lines_kind"),
        ),
        sa.CheckConstraint(
            "unit_price >= 0 or kind in ('less_billed', 'credit')",
            name=op.f("ck_invoice_lines_price_sign"),
        ),
        sa.CheckConstraint(
            "length(description) between 1 and 500",
            name=op.f("ck_invoice_lines_description_length"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_invoice_lines_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["line_items.id"],
            name=op.f("fk_invoice_lines_line_item_id_line_items"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
    )
    op.create_index(
        op.f("ix_invoice_lines_invoice_id"), "invoice_lines", ["invoice_id"], unique=False
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("check_number", sa.Text(), nullable=True),
        sa.Column("card_last4", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), server_default="", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("received_on", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column(
            "recorded_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "amount > 0 or coalesce(btrim(reason), '') <> ''",
            name=op.f("ck_payments_refund_says_why"),
        ),
        sa.CheckConstraint(
            "card_last4 is null or method = 'card'",
            name=op.f("ck_payments_card_digits_only_for_cards"),
        ),
        sa.CheckConstraint(
            "method <> 'card' or card_last4 ~ '^[0-9]{4}$'", name=op.f("ck_payments_card_last_four")
        ),
        sa.CheckConstraint(
            "method <> 'check' or coalesce(btrim(check_number), '') <> ''",
            name=op.f("ck_payments_check_numbered"),
        ),
        sa.CheckConstraint(
            "method in ('cash', 'check', 'card', 'financing')", name=op.f("ck_payments_method")
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_payments_amount_not_zero")),
        sa.CheckConstraint(
            "length(reference) <= 100 and coalesce(length(check_number), 0) <= 30 and coalesce(length(reason), 0) <= 500",
            name=op.f("ck_payments_text_length"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_payments_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    op.create_index(op.f("ix_payments_invoice_id"), "payments", ["invoice_id"], unique=False)
    op.add_column(
        "line_items",
        sa.Column("taxable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    op.add_column("line_items", sa.Column("location_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "line_items", sa.Column("unit_cost", sa.Numeric(precision=12, scale=4), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_line_items_location_id_stock_locations"),
        "line_items",
        "stock_locations",
        ["location_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.add_column("parts", sa.Column("kind", sa.Text(), server_default="part", nullable=False))
    op.add_column("parts", sa.Column("trade", sa.Text(), nullable=True))
    op.add_column(
        "parts",
        sa.Column("cost", sa.Numeric(precision=10, scale=2), server_default="0", nullable=False),
    )
    op.add_column(
        "parts", sa.Column("taxable", sa.Boolean(), server_default=sa.text("true"), nullable=False)
    )

    for name, check in PART_CHECKS:
        op.create_check_constraint(op.f(f"ck_parts_{name}"), "parts", check)
    for statement in FUNCTIONS + TRIGGERS:
        op.execute(statement)
    # The warehouse, and a truck for every technician (in the order they were added).
    op.execute("INSERT INTO stock_locations (name, kind) VALUES ('Warehouse', 'warehouse')")
    op.execute(
        "INSERT INTO stock_locations (name, kind, technician_id) "
        "SELECT 'Truck ' || row_number() OVER (ORDER BY id), 'truck', id FROM technicians"
    )


def downgrade() -> None:
    for name, _check in PART_CHECKS:
        op.drop_constraint(op.f(f"ck_parts_{name}"), "parts", type_="check")
    op.drop_column("parts", "taxable")
    op.drop_column("parts", "cost")
    op.drop_column("parts", "trade")
    op.drop_column("parts", "kind")
    op.drop_constraint(
        op.f("fk_line_items_location_id_stock_locations"), "line_items", type_="foreignkey"
    )
    op.drop_column("line_items", "unit_cost")
    op.drop_column("line_items", "location_id")
    op.drop_column("line_items", "taxable")
    op.drop_index(op.f("ix_payments_invoice_id"), table_name="payments")
    op.drop_table("payments")
    op.drop_index(op.f("ix_invoice_lines_invoice_id"), table_name="invoice_lines")
    op.drop_table("invoice_lines")
    op.drop_index(op.f("ix_stock_movements_work_order_id"), table_name="stock_movements")
    op.drop_index("ix_stock_movements_place", table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_index(op.f("ix_invoices_work_order_id"), table_name="invoices")
    op.drop_index(
        "ix_invoices_unpaid",
        table_name="invoices",
        postgresql_where=sa.text("status in ('posted', 'partly_paid')"),
    )
    op.drop_index(op.f("ix_invoices_customer_id"), table_name="invoices")
    op.drop_table("invoices")
    op.drop_index(op.f("ix_stock_levels_part_id"), table_name="stock_levels")
    op.drop_table("stock_levels")
    op.drop_table("stock_locations")
    op.drop_index(op.f("ix_job_type_parts_part_id"), table_name="job_type_parts")
    op.drop_table("job_type_parts")
    op.execute("DROP TRIGGER IF EXISTS technicians_truck ON technicians")
    for function in (
        "dispatch_truck_for_technician()",
        "dispatch_stock_move()",
        "dispatch_invoice_guard()",
        "dispatch_invoice_line_guard()",
        "dispatch_invoice_line_totals()",
        "dispatch_payment_guard()",
        "dispatch_books_refuse(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
