-- The shop owner's admin: reseller prices and roles, price changes waiting for a second
-- confirmation, and an append-only trail of admin changes that are neither stock nor money
-- (those land in inventory_movements and ledger_entries with the admin's name).

ALTER TABLE products ADD COLUMN reseller_price TEXT;

CREATE TABLE customer_roles (
    customer TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('member', 'reseller', 'admin')),
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- A price change beyond the guard rail, waiting for a confirming call before `expires_at`.
CREATE TABLE price_requests (
    id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('member', 'reseller')),
    from_price TEXT,
    to_price TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'expired', 'superseded')),
    confirmed_by TEXT,
    confirmed_at INTEGER
);
CREATE INDEX price_requests_by_product ON price_requests (product, requested_at);

CREATE TABLE admin_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    admin TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX admin_audit_by_subject ON admin_audit (subject, id);

-- Admin order lists filter by product and date.
CREATE INDEX orders_by_created ON orders (created_at);
