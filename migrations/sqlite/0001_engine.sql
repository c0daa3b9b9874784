-- warung's store, SQLite. Times are Unix milliseconds (INTEGER); money is exact decimal TEXT.

CREATE TABLE products (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    price TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('items', 'counted')),
    active INTEGER NOT NULL,
    received INTEGER NOT NULL,
    available INTEGER NOT NULL CHECK (available >= 0),
    reserved INTEGER NOT NULL CHECK (reserved >= 0),
    sold INTEGER NOT NULL CHECK (sold >= 0),
    removed INTEGER NOT NULL CHECK (removed >= 0),
    next_item_no INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (received = available + reserved + sold + removed)
);

CREATE TABLE items (
    product TEXT NOT NULL,
    item_no INTEGER NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('available', 'reserved', 'sold', 'removed')),
    order_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (product, item_no),
    UNIQUE (product, secret)
);
-- Only columns that never change are indexed, so status updates stay HOT (no index writes).

CREATE TABLE reservations (
    order_id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price TEXT NOT NULL,
    items TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
    release_reason TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX reservations_by_product ON reservations (product);

CREATE TABLE inventory_movements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
-- Restocks are looked up per product (for idempotency after a restart); purchases never touch this.
CREATE INDEX inventory_movements_restocks ON inventory_movements (product, id) WHERE reason = 'restock';

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    balance TEXT NOT NULL,
    held TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer TEXT NOT NULL,
    reference TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    balance_after TEXT NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    UNIQUE (customer, reference)
);

CREATE TABLE wallet_holds (
    customer TEXT NOT NULL,
    reference TEXT NOT NULL,
    amount TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'captured', 'voided')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (customer, reference)
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer TEXT NOT NULL,
    product TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    total TEXT NOT NULL,
    method TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orders_by_customer ON orders (customer, created_at);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    customer TEXT NOT NULL,
    order_id TEXT,
    purpose TEXT NOT NULL,
    amount TEXT NOT NULL,
    status TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE TABLE webhook_inbox (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    destination TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
