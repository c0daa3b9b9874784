-- Stock moved between a product and its shares; see the Postgres migration of the same name.
CREATE INDEX inventory_movements_moves ON inventory_movements (product, id) WHERE reason = 'move';
