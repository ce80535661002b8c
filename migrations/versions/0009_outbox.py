"""Customer messages: an outbox written in the same transaction as what causes it.

- ``outbox_messages``: one row per message (customer, work order, visit, event, channel,
  recipient, rendered body, idempotency key, state queued → sending → sent / failed /
  cancelled, attempts, the provider's id). ``dispatch_outbox_guard`` keeps a queued
  message as it was queued, lets only the worker (or the owner) send, and cancels at
  once a message the customer has not agreed to or opted out of; rows are never removed.
- **Visits queue their own messages**: ``dispatch_queue_visit_messages`` runs whenever a
  visit becomes en route or completed, whichever client made the change (the board,
  psql, an integration), and queues the on-the-way or job-done message on each channel
  of the ``message_channels`` setting, rendered from ``message_templates`` with the
  company, the lead technician's first name, the arrival estimate from the drive
  estimate, and the work order's number. The key (visit, event, channel) makes a double
  change queue one.
- ``message_templates`` per event and channel, refused when saved if they name a
  placeholder nobody fills (``dispatch_template_guard``).
- Consent on the customer: ``message_consent`` (none, informational, promotional) with
  who recorded it and when, written by the database; an opt-out (``opt_out_note``, set
  by a CSR or by the worker on a STOP reply through ``dispatch_sms_reply``) stamps
  ``opted_out_at`` and cancels whatever was still queued for them.
- ``worker_heartbeats``: each worker's last sign of life.

Refusals carry SQLSTATE ``DB001`` and the sentence the app shows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of ``domain/messages.PLACEHOLDERS`` (a migration never follows the code).
PLACEHOLDERS = (
    "company",
    "company_phone",
    "customer",
    "technician",
    "arrival",
    "window",
    "work_order",
    "review_link",
)

# ``{name}`` replaced in one pass: a value that itself reads ``{x}`` stays as it is.
RENDER = r"""
CREATE FUNCTION dispatch_render(template text, context jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    done text := '';
    rest text := template;
    found text[];
    at integer;
BEGIN
    LOOP
        found := regexp_match(rest, '\{([a-z_]+)\}');
        EXIT WHEN found IS NULL;
        at := strpos(rest, '{' || found[1] || '}');
        done := done || left(rest, at - 1) || coalesce(context ->> found[1], '');
        rest := substr(rest, at + length(found[1]) + 2);
    END LOOP;
    RETURN done || rest;
END
$$
"""

TEMPLATE_GUARD = r"""
CREATE FUNCTION dispatch_template_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    known text[] := ARRAY[{placeholders}];
    name text;
    bare text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    FOREACH bare IN ARRAY ARRAY[NEW.subject, NEW.body] LOOP
        FOR name IN SELECT m[1] FROM regexp_matches(bare, '\{([^{}]*)\}', 'g') AS m LOOP
            IF NOT name = ANY(known) THEN
                PERFORM dispatch_books_refuse(format(
                    'The template uses {%s}, which is not a placeholder: use %s.', name,
                    (SELECT string_agg('{' || k || '}', ', ') FROM unnest(known) AS k)));
            END IF;
        END LOOP;
        IF regexp_replace(bare, '\{[a-z_]+\}', '', 'g') ~ '[{}]' THEN
            PERFORM dispatch_books_refuse(
                'The template has a brace that opens or closes no placeholder.');
        END IF;
    END LOOP;
    IF btrim(NEW.body) = '' THEN
        PERFORM dispatch_books_refuse('The template says nothing: write the message.');
    END IF;
    IF NEW.channel = 'email' AND btrim(NEW.subject) = '' THEN
        PERFORM dispatch_books_refuse('An email template needs a subject.');
    END IF;
    IF NEW.channel = 'sms' AND length(NEW.body) > 1000 THEN
        PERFORM dispatch_books_refuse('A text message template is at most 1,000 characters.');
    END IF;
    NEW.updated_by := dispatch_editor();
    RETURN NEW;
END
$$
""".replace("{placeholders}", ", ".join(f"'{name}'" for name in PLACEHOLDERS))

# Who recorded consent and when, and when an opt-out was recorded: the database's.
CUSTOMER_CONSENT = """
CREATE FUNCTION dispatch_customer_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.message_consent IS DISTINCT FROM OLD.message_consent THEN
        IF NEW.message_consent = 'none' AND TG_OP = 'INSERT' THEN
            NEW.consent_recorded_at := NULL;
            NEW.consent_recorded_by := NULL;
        ELSE
            NEW.consent_recorded_at := now();
            NEW.consent_recorded_by := dispatch_editor();
        END IF;
    ELSE
        NEW.consent_recorded_at := OLD.consent_recorded_at;
        NEW.consent_recorded_by := OLD.consent_recorded_by;
    END IF;
    NEW.opt_out_note := nullif(btrim(NEW.opt_out_note), '');
    IF NEW.opt_out_note IS NULL THEN
        NEW.opted_out_at := NULL;
    ELSIF TG_OP = 'INSERT' OR OLD.opt_out_note IS NULL THEN
        NEW.opted_out_at := now();
    ELSE
        NEW.opted_out_at := OLD.opted_out_at;
    END IF;
    RETURN NEW;
END
$$
"""

# What a customer no longer wants is not sent, even if it was queued before.
CANCEL_UNWANTED = """
CREATE FUNCTION dispatch_cancel_unwanted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    IF NEW.opted_out_at IS NOT NULL AND OLD.opted_out_at IS NULL THEN
        UPDATE outbox_messages SET state = 'cancelled',
            last_error = format('%s opted out: %s', NEW.name, NEW.opt_out_note)
            WHERE customer_id = NEW.id AND state = 'queued' AND channel <> 'log';
    END IF;
    IF NEW.message_consent IS DISTINCT FROM OLD.message_consent THEN
        UPDATE outbox_messages SET state = 'cancelled',
            last_error = format('%s no longer agrees to %s.', NEW.name,
                CASE WHEN NEW.message_consent = 'none' THEN 'texts'
                     ELSE 'offers and review requests' END)
            WHERE customer_id = NEW.id AND state = 'queued'
              AND ((NEW.message_consent = 'none' AND channel = 'sms')
                   OR (NEW.message_consent <> 'promotional' AND purpose = 'promotional'));
    END IF;
    RETURN NEW;
END
$$
"""

OUTBOX_GUARD = """
CREATE FUNCTION dispatch_outbox_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    customer customers%ROWTYPE;
    sender boolean := dispatch_may('worker');
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM dispatch_books_refuse(
            'A customer message is kept as a record; cancel it instead of removing it.');
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.state <> 'queued' OR NEW.attempts <> 0 OR NEW.sent_at IS NOT NULL
           OR NEW.provider_id IS NOT NULL OR NEW.claimed_by IS NOT NULL THEN
            PERFORM dispatch_books_refuse('A message starts queued and unsent.');
        END IF;
        NEW.created_at := now();
        NEW.created_by := dispatch_editor();
        IF NEW.customer_id IS NOT NULL AND NEW.channel <> 'log' THEN
            SELECT * INTO customer FROM customers WHERE id = NEW.customer_id;
            IF customer.opted_out_at IS NOT NULL THEN
                NEW.state := 'cancelled';
                NEW.last_error := format('%s opted out: %s', customer.name, customer.opt_out_note);
            ELSIF NEW.channel = 'sms' AND customer.message_consent = 'none' THEN
                NEW.state := 'cancelled';
                NEW.last_error := format('%s has not agreed to texts.', customer.name);
            ELSIF NEW.purpose = 'promotional' AND customer.message_consent <> 'promotional' THEN
                NEW.state := 'cancelled';
                NEW.last_error := format('%s has not agreed to offers and review requests.',
                                         customer.name);
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.customer_id, NEW.work_order_id, NEW.visit_id, NEW.event, NEW.purpose, NEW.channel,
        NEW.recipient, NEW.subject, NEW.body, NEW.context, NEW.idempotency_key,
        NEW.resend_of_id, NEW.created_at, NEW.created_by)
       IS DISTINCT FROM
       (OLD.customer_id, OLD.work_order_id, OLD.visit_id, OLD.event, OLD.purpose, OLD.channel,
        OLD.recipient, OLD.subject, OLD.body, OLD.context, OLD.idempotency_key,
        OLD.resend_of_id, OLD.created_at, OLD.created_by) THEN
        PERFORM dispatch_books_refuse(
            'A message is sent as it was queued; cancel it and send another instead.');
    END IF;
    IF OLD.state IN ('failed', 'cancelled') AND NEW.state <> OLD.state THEN
        PERFORM dispatch_books_refuse(format(
            'That message was %s and stays so; resend it to try again.', OLD.state));
    END IF;
    IF OLD.state = 'sent' AND NEW.state NOT IN ('sent', 'failed') THEN
        PERFORM dispatch_books_refuse('That message was sent and stays so.');
    END IF;
    IF NEW.state = 'cancelled' AND OLD.state <> 'cancelled' THEN
        IF OLD.state = 'sending' AND NOT sender THEN
            PERFORM dispatch_books_refuse(
                'That message is being sent right now; it can no longer be cancelled.');
        END IF;
        RETURN NEW;
    END IF;
    -- Sending, and saying how it went, is the worker's.
    IF NOT sender AND (NEW.state <> OLD.state OR NEW.attempts <> OLD.attempts
        OR NEW.provider_id IS DISTINCT FROM OLD.provider_id
        OR NEW.delivery_status IS DISTINCT FROM OLD.delivery_status
        OR NEW.sent_at IS DISTINCT FROM OLD.sent_at
        OR NEW.claimed_by IS DISTINCT FROM OLD.claimed_by) THEN
        PERFORM dispatch_refuse('send customer messages');
    END IF;
    RETURN NEW;
END
$$
"""

# The on-the-way and job-done messages, whoever changed the visit.
QUEUE_VISIT = """
CREATE FUNCTION dispatch_queue_visit_messages() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    kind text;
    settings jsonb;
    zone text;
    wo work_orders%ROWTYPE;
    customer customers%ROWTYPE;
    site service_sites%ROWTYPE;
    tech technicians%ROWTYPE;
    from_lat double precision;
    from_lon double precision;
    minutes double precision;
    eta timestamptz;
    arrival text;
    window_text text;
    context jsonb;
    via text;
    tpl message_templates%ROWTYPE;
    recipient text;
    phone text;
BEGIN
    IF NEW.status = 'en_route' THEN
        kind := 'on_the_way';
    ELSIF NEW.status = 'completed' THEN
        kind := 'job_done';
    ELSE
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = NEW.status THEN
        RETURN NULL;
    END IF;
    -- A visit of another day (history typed in, an import) is not happening now.
    IF coalesce(CASE kind WHEN 'on_the_way' THEN NEW.starts ELSE NEW.ends END, now())
       NOT BETWEEN now() - interval '1 day' AND now() + interval '1 day' THEN
        RETURN NULL;
    END IF;
    SELECT jsonb_object_agg(key, value) INTO settings FROM app_settings;
    zone := coalesce(settings ->> 'business_timezone', 'UTC');
    SELECT * INTO wo FROM work_orders WHERE id = NEW.work_order_id;
    SELECT * INTO customer FROM customers WHERE id = wo.customer_id;
    SELECT * INTO site FROM service_sites WHERE id = wo.site_id;
    SELECT t.* INTO tech FROM visit_technicians vt JOIN technicians t ON t.id = vt.technician_id
        WHERE vt.visit_id = NEW.id ORDER BY vt.is_lead DESC, vt.id LIMIT 1;
    -- Where the technician sets off from: a fresh reported position, else the site of
    -- the job they finished last today, else home.
    IF tech.id IS NOT NULL THEN
        IF tech.reported_at > now() - interval '2 hours' THEN
            from_lat := tech.reported_lat;
            from_lon := tech.reported_lon;
        ELSE
            SELECT s.lat, s.lon INTO from_lat, from_lon
                FROM visits v
                JOIN visit_technicians vt ON vt.visit_id = v.id
                JOIN work_orders w ON w.id = v.work_order_id
                JOIN service_sites s ON s.id = w.site_id
                WHERE vt.technician_id = tech.id AND v.id <> NEW.id AND v.status = 'completed'
                  AND v.ends > now() - interval '12 hours' AND s.lat IS NOT NULL
                ORDER BY v.ends DESC LIMIT 1;
            IF from_lat IS NULL THEN
                from_lat := tech.home_lat;
                from_lon := tech.home_lon;
            END IF;
        END IF;
    END IF;
    IF kind = 'on_the_way' AND from_lat IS NOT NULL AND site.lat IS NOT NULL THEN
        minutes := 2 * 6371.0088 * asin(sqrt(
                power(sin(radians(site.lat - from_lat) / 2), 2)
                + cos(radians(from_lat)) * cos(radians(site.lat))
                  * power(sin(radians(site.lon - from_lon) / 2), 2)))
            * coalesce((settings ->> 'road_factor')::double precision, 1.3)
            / greatest(coalesce((settings ->> 'average_speed_kmh')::double precision, 40), 1)
            * 60;
        eta := to_timestamp(ceil(extract(epoch FROM now() + make_interval(secs => minutes * 60))
                                 / 300) * 300);
        arrival := to_char(eta AT TIME ZONE zone, 'FMHH12:MI AM');
    END IF;
    IF NEW.arrival_window_start IS NOT NULL THEN
        window_text := CASE
            WHEN to_char(NEW.arrival_window_start AT TIME ZONE zone, 'AM')
                 = to_char(NEW.arrival_window_end AT TIME ZONE zone, 'AM')
            THEN to_char(NEW.arrival_window_start AT TIME ZONE zone, 'FMHH12:MI')
            ELSE to_char(NEW.arrival_window_start AT TIME ZONE zone, 'FMHH12:MI AM') END
            || '–' || to_char(NEW.arrival_window_end AT TIME ZONE zone, 'FMHH12:MI AM');
    END IF;
    context := jsonb_build_object(
        'company', coalesce(settings ->> 'company_name', ''),
        'company_phone', coalesce(settings ->> 'company_phone', ''),
        'customer', split_part(btrim(customer.name), ' ', 1),
        'technician', coalesce(split_part(btrim(tech.name), ' ', 1), ''),
        'arrival', coalesce(arrival, window_text, 'soon'),
        'window', coalesce(window_text, ''),
        'work_order', wo.number,
        'review_link', coalesce(settings ->> 'review_link', ''));
    SELECT number INTO phone FROM customer_phones WHERE customer_id = customer.id
        ORDER BY lower(label) IN ('mobile', 'cell') DESC, id LIMIT 1;
    FOR via IN
        SELECT DISTINCT c FROM jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(settings -> 'message_channels') = 'array'
                 THEN settings -> 'message_channels' ELSE '["log"]'::jsonb END) AS c
        WHERE c IN ('log', 'email', 'sms')
    LOOP
        recipient := CASE via
            WHEN 'sms' THEN phone
            WHEN 'email' THEN nullif(btrim(customer.email), '')
            ELSE coalesce(phone, nullif(btrim(customer.email), ''), customer.name) END;
        CONTINUE WHEN recipient IS NULL;
        SELECT * INTO tpl FROM message_templates t
            WHERE t.event = kind AND t.channel = CASE via WHEN 'email' THEN 'email' ELSE 'sms' END;
        CONTINUE WHEN tpl.id IS NULL;
        INSERT INTO outbox_messages (customer_id, work_order_id, visit_id, event, purpose,
                channel, recipient, subject, body, context, idempotency_key, expires_at,
                max_attempts)
            VALUES (customer.id, wo.id, NEW.id, kind, 'informational', via, recipient,
                left(dispatch_render(tpl.subject, context), 200),
                left(dispatch_render(tpl.body, context), 1600), context,
                format('visit:%s:%s:%s', NEW.id, kind, via),
                now() + CASE kind WHEN 'on_the_way' THEN interval '3 hours'
                                   ELSE interval '1 day' END,
                least(greatest(coalesce((settings ->> 'message_max_attempts')::integer, 5), 1), 20))
            ON CONFLICT (idempotency_key) DO NOTHING;
    END LOOP;
    RETURN NULL;
END
$$
"""

# Again, as a new row: the first stays the record of what happened to it.
RESEND = """
CREATE FUNCTION dispatch_resend_message(message bigint) RETURNS bigint LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    original outbox_messages%ROWTYPE;
    copies integer;
    made bigint;
BEGIN
    IF NOT dispatch_may('csr') THEN
        PERFORM dispatch_refuse('resend customer messages');
    END IF;
    SELECT * INTO original FROM outbox_messages WHERE id = message;
    IF original.id IS NULL THEN
        PERFORM dispatch_books_refuse('That message no longer exists.');
    END IF;
    IF original.state IN ('queued', 'sending') THEN
        PERFORM dispatch_books_refuse('That message is still waiting to be sent.');
    END IF;
    original.id := coalesce(original.resend_of_id, original.id);
    SELECT count(*) INTO copies FROM outbox_messages WHERE resend_of_id = original.id;
    INSERT INTO outbox_messages (customer_id, work_order_id, visit_id, event, purpose, channel,
            recipient, subject, body, context, idempotency_key, resend_of_id, zone,
            max_attempts)
        SELECT customer_id, work_order_id, visit_id, event, purpose, channel, recipient,
               subject, body, context, format('%s#resend-%s', idempotency_key, copies + 1), id,
               zone, max_attempts
        FROM outbox_messages WHERE id = original.id
        RETURNING id INTO made;
    RETURN made;
END
$$
"""

# A reply to the company's number (STOP and the other opt-out words, or START), kept as
# the record of what the customer said and applied once, however often it is read.
SMS_REPLY = """
CREATE FUNCTION dispatch_sms_reply(reply_id text, reply_from text, reply_body text,
                                   reply_intent text, reply_at timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    changed integer;
    said text;
BEGIN
    IF NOT dispatch_may('worker') THEN
        PERFORM dispatch_refuse('record replies to texts');
    END IF;
    IF reply_intent NOT IN ('opt_out', 'opt_in', 'help') THEN
        PERFORM dispatch_books_refuse(format('%s is not a reply the outbox records.', reply_intent));
    END IF;
    INSERT INTO message_replies (provider_id, sender, body, intent, received_at)
        VALUES (reply_id, reply_from, left(reply_body, 1600), reply_intent, reply_at)
        ON CONFLICT ON CONSTRAINT uq_message_replies_provider_id DO NOTHING;
    IF NOT FOUND OR reply_intent = 'help' THEN
        RETURN 0;
    END IF;
    said := format('Replied %s by text on %s', upper(left(btrim(reply_body), 20)),
                   to_char(reply_at, 'YYYY-MM-DD HH24:MI TZ'));
    IF reply_intent = 'opt_out' THEN
        UPDATE customers SET opt_out_note = said
            WHERE id IN (SELECT customer_id FROM customer_phones WHERE number = reply_from)
              AND opted_out_at IS NULL;
    ELSE
        UPDATE customers SET opt_out_note = NULL,
            message_consent = CASE WHEN message_consent = 'none' THEN 'informational'
                                   ELSE message_consent END
            WHERE id IN (SELECT customer_id FROM customer_phones WHERE number = reply_from)
              AND (opted_out_at IS NOT NULL OR message_consent = 'none');
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$
"""

TEMPLATES = (
    (
        "on_the_way",
        "sms",
        "",
        "{company}: {technician} is on the way to you, arriving about {arrival}. "
        "Reply STOP to opt out.",
    ),
    (
        "on_the_way",
        "email",
        "{technician} from {company} is on the way",
        "Hello {customer},\n\n{technician} is on the way for work order {work_order} and "
        "should arrive about {arrival}.\n\nQuestions? Call us at {company_phone}.\n\n{company}",
    ),
    (
        "job_done",
        "sms",
        "",
        "{company}: {technician} has finished work order {work_order}. Thank you! "
        "Questions? Call {company_phone}.",
    ),
    (
        "job_done",
        "email",
        "Work order {work_order} is done",
        "Hello {customer},\n\n{technician} has finished work order {work_order}. Thank you "
        "for choosing {company}.\n\nQuestions? Call us at {company_phone}.\n\n{company}",
    ),
    (
        "review_request",
        "sms",
        "",
        "Thanks for choosing {company}, {customer}! How did {technician} do? {review_link} "
        "Reply STOP to opt out.",
    ),
    (
        "review_request",
        "email",
        "How did {technician} do?",
        "Hello {customer},\n\nThank you for choosing {company}. Would you tell others how "
        "{technician} did? {review_link}\n\n{company}",
    ),
    (
        "maintenance_reminder",
        "sms",
        "",
        "{company}: your equipment is due for its maintenance visit. Call {company_phone} "
        "to book. Reply STOP to opt out.",
    ),
    (
        "maintenance_reminder",
        "email",
        "Time for your maintenance visit",
        "Hello {customer},\n\nYour equipment is due for its maintenance visit. Call us at "
        "{company_phone} to book a time.\n\n{company}",
    ),
    ("test", "sms", "", "This is a test message from {company}."),
    (
        "test",
        "email",
        "A test message from {company}",
        "This is a test message from {company}. Email reaches your customers.",
    ),
)

FUNCTIONS = (
    RENDER,
    TEMPLATE_GUARD,
    CUSTOMER_CONSENT,
    CANCEL_UNWANTED,
    OUTBOX_GUARD,
    QUEUE_VISIT,
    RESEND,
    SMS_REPLY,
)
TRIGGERS = (
    "CREATE TRIGGER message_templates_guard BEFORE INSERT OR UPDATE ON message_templates "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_template_guard()",
    "CREATE TRIGGER customers_consent BEFORE INSERT OR UPDATE ON customers "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_customer_consent()",
    # WHEN, not UPDATE OF: ``opted_out_at`` is set by the BEFORE trigger, never named.
    "CREATE TRIGGER customers_cancel_unwanted AFTER UPDATE ON customers FOR EACH ROW "
    "WHEN (OLD.opted_out_at IS DISTINCT FROM NEW.opted_out_at "
    "OR OLD.message_consent IS DISTINCT FROM NEW.message_consent) "
    "EXECUTE FUNCTION dispatch_cancel_unwanted()",
    "CREATE TRIGGER outbox_messages_guard BEFORE INSERT OR UPDATE OR DELETE ON outbox_messages "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_outbox_guard()",
    "CREATE TRIGGER visits_queue_messages AFTER INSERT OR UPDATE OF status ON visits "
    "FOR EACH ROW EXECUTE FUNCTION dispatch_queue_visit_messages()",
)


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel in ('email', 'sms')", name=op.f("ck_message_templates_channel")
        ),
        sa.CheckConstraint(
            "event in ('on_the_way', 'job_done', 'review_request', 'maintenance_reminder', 'test')",
            name=op.f("ck_message_templates_event"),
        ),
        sa.CheckConstraint(
            "length(body) between 1 and 5000", name=op.f("ck_message_templates_body_length")
        ),
        sa.CheckConstraint(
            "length(subject) <= 200", name=op.f("ck_message_templates_subject_length")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("event", "channel", name=op.f("uq_message_templates_event")),
    )
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("login", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "length(name) between 1 and 200", name=op.f("ck_worker_heartbeats_name_length")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("work_order_id", sa.BigInteger(), nullable=True),
        sa.Column("visit_id", sa.BigInteger(), nullable=True),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), server_default="informational", nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), server_default="", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("resend_of_id", sa.BigInteger(), nullable=True),
        sa.Column("zone", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("5"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_tried_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.Text(), nullable=True),
        sa.Column("delivery_status", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by", sa.Text(), server_default=sa.text("dispatch_editor()"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(state = 'sending') = (claimed_by is not null)",
            name=op.f("ck_outbox_messages_claimed_while_sending"),
        ),
        sa.CheckConstraint(
            "state <> 'sent' or sent_at is not null",
            name=op.f("ck_outbox_messages_sent_when_sent"),
        ),
        sa.CheckConstraint(
            "channel in ('log', 'email', 'sms')", name=op.f("ck_outbox_messages_channel")
        ),
        sa.CheckConstraint(
            "event in ('on_the_way', 'job_done', 'review_request', 'maintenance_reminder', 'test')",
            name=op.f("ck_outbox_messages_event"),
        ),
        sa.CheckConstraint(
            "purpose in ('informational', 'promotional')", name=op.f("ck_outbox_messages_purpose")
        ),
        sa.CheckConstraint(
            "state in ('queued', 'sending', 'sent', 'failed', 'cancelled')",
            name=op.f("ck_outbox_messages_state"),
        ),
        sa.CheckConstraint(
            "attempts >= 0 and max_attempts between 1 and 20 and attempts <= max_attempts",
            name=op.f("ck_outbox_messages_attempts_range"),
        ),
        sa.CheckConstraint(
            "coalesce(length(last_error), 0) <= 1000",
            name=op.f("ck_outbox_messages_last_error_length"),
        ),
        sa.CheckConstraint(
            "length(body) between 1 and 5000", name=op.f("ck_outbox_messages_body_length")
        ),
        sa.CheckConstraint(
            "length(idempotency_key) between 1 and 200", name=op.f("ck_outbox_messages_key_length")
        ),
        sa.CheckConstraint(
            "length(recipient) between 1 and 320", name=op.f("ck_outbox_messages_recipient_length")
        ),
        sa.CheckConstraint(
            "length(subject) <= 200", name=op.f("ck_outbox_messages_subject_length")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_outbox_messages_customer_id_customers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resend_of_id"],
            ["outbox_messages.id"],
            name=op.f("fk_outbox_messages_resend_of_id_outbox_messages"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_outbox_messages_visit_id_visits"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_orders.id"],
            name=op.f("fk_outbox_messages_work_order_id_work_orders"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
    )
    op.create_index(
        op.f("ix_outbox_messages_customer_id"), "outbox_messages", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_outbox_messages_queued",
        "outbox_messages",
        ["id"],
        unique=False,
        postgresql_where=sa.text("state = 'queued'"),
    )
    op.create_index(
        "ix_outbox_messages_sending",
        "outbox_messages",
        ["claimed_at"],
        unique=False,
        postgresql_where=sa.text("state = 'sending'"),
    )
    op.create_index(
        op.f("ix_outbox_messages_work_order_id"), "outbox_messages", ["work_order_id"], unique=False
    )
    op.create_table(
        "message_replies",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider_id", sa.Text(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("intent", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "intent in ('opt_out', 'opt_in', 'help')", name=op.f("ck_message_replies_intent")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_replies")),
        sa.UniqueConstraint("provider_id", name=op.f("uq_message_replies_provider_id")),
    )
    op.add_column(
        "customers", sa.Column("message_consent", sa.Text(), server_default="none", nullable=False)
    )
    op.add_column(
        "customers", sa.Column("consent_recorded_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("customers", sa.Column("consent_recorded_by", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("customers", sa.Column("opt_out_note", sa.Text(), nullable=True))

    op.create_check_constraint(
        op.f("ck_customers_message_consent"),
        "customers",
        "message_consent in ('none', 'informational', 'promotional')",
    )
    op.create_check_constraint(
        op.f("ck_customers_opt_out_says_how"),
        "customers",
        "(opted_out_at is null) = (opt_out_note is null) "
        "and coalesce(length(opt_out_note), 0) <= 500",
    )
    for function in FUNCTIONS:
        op.execute(function)
    for trigger in TRIGGERS:
        op.execute(trigger)
    templates = sa.table(
        "message_templates",
        sa.column("event", sa.Text),
        sa.column("channel", sa.Text),
        sa.column("subject", sa.Text),
        sa.column("body", sa.Text),
    )
    op.bulk_insert(
        templates,
        [
            {"event": e, "channel": c, "subject": subject, "body": body}
            for e, c, subject, body in TEMPLATES
        ],
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS visits_queue_messages ON visits")
    op.execute("DROP TRIGGER IF EXISTS customers_cancel_unwanted ON customers")
    op.execute("DROP TRIGGER IF EXISTS customers_consent ON customers")
    op.drop_constraint(op.f("ck_customers_opt_out_says_how"), "customers", type_="check")
    op.drop_constraint(op.f("ck_customers_message_consent"), "customers", type_="check")
    op.drop_column("customers", "opt_out_note")
    op.drop_column("customers", "opted_out_at")
    op.drop_column("customers", "consent_recorded_by")
    op.drop_column("customers", "consent_recorded_at")
    op.drop_column("customers", "message_consent")
    op.drop_index(op.f("ix_outbox_messages_work_order_id"), table_name="outbox_messages")
    op.drop_index(
        "ix_outbox_messages_sending",
        table_name="outbox_messages",
        postgresql_where=sa.text("state = 'sending'"),
    )
    op.drop_index(
        "ix_outbox_messages_queued",
        table_name="outbox_messages",
        postgresql_where=sa.text("state = 'queued'"),
    )
    op.drop_index(op.f("ix_outbox_messages_customer_id"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_table("message_replies")
    op.drop_table("worker_heartbeats")
    op.drop_table("message_templates")
    for name in (
        "dispatch_sms_reply(text, text, text, text, timestamp with time zone)",
        "dispatch_resend_message(bigint)",
        "dispatch_queue_visit_messages()",
        "dispatch_outbox_guard()",
        "dispatch_cancel_unwanted()",
        "dispatch_customer_consent()",
        "dispatch_template_guard()",
        "dispatch_render(text, jsonb)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
