-- The gateway's durable queues: inbound messages are answered once, in order per customer;
-- replies leave through the outbox; QRIS charges wait for their payment.

-- Whose queue an inbound message belongs to, and when its answer was stored (NULL: not yet).
ALTER TABLE webhook_inbox ADD COLUMN customer TEXT;
ALTER TABLE webhook_inbox ADD COLUMN handled_at INTEGER;
CREATE INDEX webhook_inbox_unhandled ON webhook_inbox (received_at) WHERE handled_at IS NULL;

-- `dedup_key` names what an entry answers (an inbound message and the reply's position, an
-- order's delivery): writing it twice keeps one entry. `provider_id` is the id the provider gave
-- the sent message; `last_error` why the last attempt failed.
ALTER TABLE outbox ADD COLUMN dedup_key TEXT;
ALTER TABLE outbox ADD COLUMN provider_id TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE UNIQUE INDEX outbox_dedup ON outbox (dedup_key);

-- One row per QRIS charge: an order or a top up awaiting payment. `gross_amount` is the base
-- amount plus `unique_code`; no two open charges share a gross amount, so a payment found by
-- amount alone (a bank statement, a support call) names exactly one charge.
CREATE TABLE qris_charges (
    id TEXT PRIMARY KEY,
    customer TEXT NOT NULL,
    purpose TEXT NOT NULL,
    order_id TEXT,
    base_amount TEXT NOT NULL,
    unique_code INTEGER NOT NULL,
    gross_amount TEXT NOT NULL,
    status TEXT NOT NULL,
    qr_url TEXT,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX qris_charges_open_amount ON qris_charges (gross_amount) WHERE status IN ('charging', 'pending');
CREATE INDEX qris_charges_open ON qris_charges (expires_at) WHERE status IN ('charging', 'pending');
