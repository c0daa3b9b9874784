-- The shop owner's admin: reseller prices and roles, price changes waiting for a second
-- confirmation, and an append-only trail of admin changes that are neither stock nor money
-- (those land in inventory_movements and ledger_entries with the admin's name).

ALTER TABLE products ADD COLUMN reseller_price NUMERIC(20, 2) CHECK (reseller_price > 0);

CREATE TABLE customer_roles (
    customer TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('member', 'reseller', 'admin')),
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

-- A price change beyond the guard rail, waiting for a confirming call before `expires_at`.
CREATE TABLE price_requests (
    id TEXT COLLATE "C" PRIMARY KEY,
    product TEXT COLLATE "C" NOT NULL,
    tier TEXT NOT NULL CHECK (tier IN ('member', 'reseller')),
    from_price NUMERIC(20, 2),
    to_price NUMERIC(20, 2) NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'expired', 'superseded')),
    confirmed_by TEXT,
    confirmed_at BIGINT
);
CREATE INDEX price_requests_by_product ON price_requests (product, requested_at);

CREATE TABLE admin_audit (
    id BIGSERIAL PRIMARY KEY,
    admin TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX admin_audit_by_subject ON admin_audit (subject, id);

-- Admin order lists filter by date. A BRIN index: orders are appended roughly in time order, so
-- block ranges summarise well, and a purchase pays almost nothing for it, where a btree adds an
-- index insert to every sale on the hot path.
CREATE INDEX orders_by_created ON orders USING brin (created_at);
