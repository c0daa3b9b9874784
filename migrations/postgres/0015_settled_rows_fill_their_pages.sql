-- Orders and reservations left a fifth of each page free (fillfactor 80) for updates to stay on
-- their page (HOT). None of their updates can: an order's changes its `updated_at` (indexed while
-- it is in review) and its `state` (the open orders' index predicate); a reservation's changes
-- its `updated_at` (indexed with its product) and its `status` (the open ones' predicate). So the
-- free fifth only made every sale's rows take a quarter more pages to extend, log and cache. New
-- pages are now filled; the pages already written keep their space.
ALTER TABLE orders SET (fillfactor = 100);
ALTER TABLE reservations SET (fillfactor = 100);
