-- A sale whose reservation opens and commits in one projection (a saldo purchase) no longer writes
-- a reservation row: its order's row has the product, quantity, price and expiry already, and now
-- also the item numbers the sale took. NULL: the order made no such sale (its reservation, if
-- any, is in `reservations`); '' for a sale of counted stock, which has no items.
ALTER TABLE orders ADD COLUMN sold_items TEXT;
-- A product's activation reads its newest settled sales, as it reads its newest settled
-- reservations (`reservations_by_product_time`): one index entry a sale instead of a row and two.
-- By the order's creation, which never changes (its `updated_at` moves at a refund, which would
-- make an old sale look new).
CREATE INDEX orders_sold_by_product ON orders (product, created_at) WHERE sold_items IS NOT NULL;
