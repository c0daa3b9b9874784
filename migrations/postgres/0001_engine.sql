-- warung's store, Postgres. Times are Unix milliseconds (BIGINT); money is NUMERIC(20,2).
-- Identifiers compare by bytes (COLLATE "C"): the right order for ids, and a memcmp in every index.

CREATE TABLE products (
    code TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    price NUMERIC(20, 2) NOT NULL CHECK (price >= 0),
    kind TEXT NOT NULL CHECK (kind IN ('items', 'counted')),
    active BIGINT NOT NULL,
    received BIGINT NOT NULL,
    available BIGINT NOT NULL CHECK (available >= 0),
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    sold BIGINT NOT NULL CHECK (sold >= 0),
    removed BIGINT NOT NULL CHECK (removed >= 0),
    next_item_no BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (received = available + reserved + sold + removed)
) WITH (fillfactor = 50);

CREATE TABLE items (
    product TEXT COLLATE "C" NOT NULL,
    item_no BIGINT NOT NULL,
    secret TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('available', 'reserved', 'sold', 'removed')),
    order_id TEXT COLLATE "C",
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (product, item_no),
    UNIQUE (product, secret)
) WITH (fillfactor = 50);
-- Only columns that never change are indexed, and half of each page is left free, so an item's
-- status updates stay HOT (no index writes).

CREATE TABLE reservations (
    order_id TEXT COLLATE "C" PRIMARY KEY,
    product TEXT COLLATE "C" NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price NUMERIC(20, 2) NOT NULL,
    items TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'committed', 'released')),
    release_reason TEXT NOT NULL,
    updated_at BIGINT NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX reservations_by_product ON reservations (product);

CREATE TABLE inventory_movements (
    id BIGSERIAL, -- append-only, never looked up by id: no index to maintain
    product TEXT COLLATE "C" NOT NULL,
    quantity BIGINT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    reference TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
-- Restocks are looked up per product (for idempotency after a restart); purchases never touch this.
CREATE INDEX inventory_movements_restocks ON inventory_movements (product, id) WHERE reason = 'restock';

CREATE TABLE customers (
    id TEXT COLLATE "C" PRIMARY KEY,
    balance NUMERIC(20, 2) NOT NULL CHECK (balance >= 0),
    held NUMERIC(20, 2) NOT NULL CHECK (held >= 0 AND held <= balance),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITH (fillfactor = 80);

CREATE TABLE ledger_entries (
    id BIGSERIAL, -- append-only, never looked up by id: no index to maintain
    customer TEXT COLLATE "C" NOT NULL,
    reference TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    amount NUMERIC(20, 2) NOT NULL,
    balance_after NUMERIC(20, 2) NOT NULL CHECK (balance_after >= 0),
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    UNIQUE (customer, reference)
);

CREATE TABLE wallet_holds (
    customer TEXT COLLATE "C" NOT NULL,
    reference TEXT COLLATE "C" NOT NULL,
    amount NUMERIC(20, 2) NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'captured', 'voided')),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (customer, reference)
);

CREATE TABLE orders (
    id TEXT COLLATE "C" PRIMARY KEY,
    customer TEXT COLLATE "C" NOT NULL,
    product TEXT COLLATE "C" NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price NUMERIC(20, 2) NOT NULL,
    total NUMERIC(20, 2) NOT NULL,
    method TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    note TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX orders_by_customer ON orders (customer, created_at);

CREATE TABLE payments (
    id TEXT COLLATE "C" PRIMARY KEY,
    customer TEXT COLLATE "C" NOT NULL,
    order_id TEXT COLLATE "C",
    purpose TEXT NOT NULL,
    amount NUMERIC(20, 2) NOT NULL,
    status TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE TABLE webhook_inbox (
    provider TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    received_at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    destination TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
