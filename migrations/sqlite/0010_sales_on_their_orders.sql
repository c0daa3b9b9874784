-- Sales carried by their orders' rows; see the Postgres migration of the same name.
ALTER TABLE orders ADD COLUMN sold_items TEXT;
CREATE INDEX orders_sold_by_product ON orders (product, created_at) WHERE sold_items IS NOT NULL;
