-- Stock moved between a product and its shares (a share sells part of its product's stock in
-- another lane of the engine). A move is looked up per product, as a restock is: a product's
-- activation remembers its latest moves so a repeated one gets its first answer, and recovery
-- finds the moves out that never arrived.
CREATE INDEX inventory_movements_moves ON inventory_movements (product, id) WHERE reason = 'move';
