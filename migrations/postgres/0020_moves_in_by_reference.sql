-- Where each stock move arrived, by its reference: recovery, the audit and a product's
-- activation look for the moves out of a product that have not arrived yet (a move in has the
-- reference of its move out, on the other product's rows).
CREATE INDEX inventory_movements_moves_in ON inventory_movements (reference) WHERE reason = 'move' AND to_state = 'available';
