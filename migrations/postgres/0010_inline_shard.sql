-- The same shard as before (the first byte of the SHA-256 of "<tag>:<id>" in UTF-8), written with
-- immutable functions only, so Postgres inlines it into the generated `shard` columns instead of
-- calling a SQL function per row written: about 0.9 µs a row, which a flash sale pays on every
-- order, reservation and balance it writes (docs/benchmarks.md). `convert_to` is only stable, and
-- an immutable function with a stable body is never inlined.
--
-- Text cast to bytea is its bytes in the database's encoding, with backslash escapes read; every
-- backslash is doubled first, so no escape is left. The bytes are UTF-8 only in a UTF-8 database:
-- any other keeps the old definition (it computes the same values, only slower).
DO $$
BEGIN
    IF current_setting('server_encoding') = 'UTF8' THEN
        CREATE OR REPLACE FUNCTION warung_shard(tag TEXT, id TEXT) RETURNS SMALLINT
            LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
            RETURN get_byte(sha256(replace(tag || ':' || id, '\', '\\')::bytea), 0)::SMALLINT;
    END IF;
END
$$;
