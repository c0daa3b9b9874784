-- Exactly-once money at the edges.

-- A payment's status says what it did, once: 'delivered' (it bought its order; what it paid
-- beyond the order's total is credited under 'surplus:<id>') or 'credited' (it went to the wallet
-- whole, under 'topup:<id>' or 'payment:<id>'). Rows from before were all 'settled'.
-- `surplus` is a delivered payment's amount beyond its order's total, owed to the wallet.
ALTER TABLE payments ADD COLUMN surplus NUMERIC(20, 2) NOT NULL DEFAULT 0;
UPDATE payments SET status = 'credited'
 WHERE status = 'settled'
   AND (purpose <> 'order'
        OR EXISTS (SELECT 1 FROM ledger_entries l
                    WHERE l.customer = payments.customer AND l.reference = 'payment:' || payments.id));
-- A delivered payment's surplus is what it paid beyond its order's total (credited before, or
-- owed: the next start credits it).
UPDATE payments SET status = 'delivered',
       surplus = COALESCE((SELECT l.amount FROM ledger_entries l
                            WHERE l.customer = payments.customer AND l.reference = 'surplus:' || payments.id),
                          (SELECT GREATEST(payments.amount - o.total, 0) FROM orders o WHERE o.id = payments.order_id),
                          surplus)
 WHERE status = 'settled';

-- Why a charge went to review (a paid amount it did not ask for), for the person who looks.
ALTER TABLE qris_charges ADD COLUMN note TEXT NOT NULL DEFAULT '';

-- At most one open top-up per customer, so a few accounts cannot hold every unique code of an
-- amount. Older open top-ups beyond the newest are closed here; one paid late is still credited.
UPDATE qris_charges SET status = 'expired'
 WHERE purpose = 'top_up' AND status IN ('charging', 'pending')
   AND EXISTS (SELECT 1 FROM qris_charges newer
                WHERE newer.customer = qris_charges.customer AND newer.purpose = 'top_up'
                  AND newer.status IN ('charging', 'pending')
                  AND (newer.created_at, newer.id) > (qris_charges.created_at, qris_charges.id));
CREATE UNIQUE INDEX qris_charges_open_top_up ON qris_charges (customer)
 WHERE purpose = 'top_up' AND status IN ('charging', 'pending');

-- A restock's content, as a stable fingerprint: a reference reused with other content is refused
-- even after the product forgot it. NULL for restocks stored before.
ALTER TABLE inventory_movements ADD COLUMN content_hash TEXT;

-- Each customer's unsent replies in order: the sender picks every customer's oldest one, and a
-- customer's backlog is counted, without reading anybody else's.
CREATE INDEX outbox_unsent_by_destination ON outbox (destination, id) WHERE status IN ('pending', 'sending');
