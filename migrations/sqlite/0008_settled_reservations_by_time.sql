-- A product actor's activation reads its newest settled reservations; on (product) alone that
-- sorted every reservation the product ever had (see the Postgres migration of the same name).
CREATE INDEX reservations_by_product_time ON reservations (product, updated_at);
DROP INDEX reservations_by_product;
