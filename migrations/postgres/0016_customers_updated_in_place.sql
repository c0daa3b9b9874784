-- A customer's row is inserted at its first top-up and updated at every change of its balance. At
-- fillfactor 80 a page of about 66 customers had room for about 13 new versions, so most first
-- purchases after a burst of top-ups could not update in place (HOT): measured, 70% of them wrote
-- the row to another page and a new entry in `customers_pkey`. At 50 every row of a page has room
-- for its next version, and a HOT update's dead version is pruned when the page is next written, so
-- the room comes back. The table takes twice the pages (about 250 bytes a customer).
ALTER TABLE customers SET (fillfactor = 50);
