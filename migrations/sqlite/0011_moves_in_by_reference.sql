-- Where each stock move arrived, by its reference; see the Postgres migration of the same name.
CREATE INDEX inventory_movements_moves_in ON inventory_movements (reference) WHERE reason = 'move' AND to_state = 'available';
