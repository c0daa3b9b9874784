-- The shard was stored on every order, reservation, customer and product (generated columns,
-- migration 0006), so every row a sale writes computed a SHA-256 in the database, and every
-- update of a customer's balance or a product's stock computed it again: about 1 µs a row, some
-- 3 µs a sale (docs/benchmarks.md, fourteenth part). Nothing reads those columns: a node that
-- acquires shards reads the open orders and reservations and keeps its own in the engine. What
-- needs an index is those open rows, so the indexes stay, on the shard as an expression and
-- still only over the open rows: the shard is computed for an order while it is open, never for
-- a settled sale. `webhook_inbox` and `qris_charges` keep their stored column (a node reads its
-- shards' unhandled messages by it).
ALTER TABLE orders DROP COLUMN shard;
CREATE INDEX orders_open_by_shard ON orders (warung_shard('c', customer)) WHERE state IN ('pending', 'awaiting_payment');

ALTER TABLE reservations DROP COLUMN shard;
CREATE INDEX reservations_open_by_shard ON reservations (warung_shard('p', product)) WHERE status = 'reserved';

ALTER TABLE customers DROP COLUMN shard;
ALTER TABLE products DROP COLUMN shard;
