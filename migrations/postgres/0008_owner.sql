-- A charge is paid by QRIS (through Midtrans) or by a bank transfer the shop owner confirms. Both
-- take their amounts from the same pool, so no two open charges, of either kind, ask for the same
-- amount, and the owner can match a transfer by its amount alone.
ALTER TABLE qris_charges ADD COLUMN method TEXT NOT NULL DEFAULT 'qris' CHECK (method IN ('qris', 'transfer'));

-- The alerts' watch reads the orders gone to review since its last look, every few seconds: only
-- those rows are indexed, so a sale's write does not pay for it.
CREATE INDEX orders_review_by_time ON orders (updated_at) WHERE state = 'review';
