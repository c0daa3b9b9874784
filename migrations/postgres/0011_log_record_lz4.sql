-- The log's records are compressed with lz4 instead of pglz when they are stored out of line
-- (a batch's record is often larger than 2 KB): pglz spent a measurable part of every append's
-- time (lab, 60,000 all-sales buyers at 64 in flight: 1.21-1.27 ms per append with pglz,
-- 1.10-1.12 ms with lz4, none at all was no better). A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE journal_log ALTER COLUMN record SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server; the journal log keeps pglz';
END
$$;
