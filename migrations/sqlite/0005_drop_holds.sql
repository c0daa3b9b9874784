-- Wallet holds (money set aside, then captured or voided) were only ever placed by tests: the
-- engine takes a saldo purchase's money with a debit. Their table and each customer's held
-- amount (always zero) go.
DROP TABLE wallet_holds;
ALTER TABLE customers DROP COLUMN held;
