-- Finer statistics for the two columns behind SCIM's co/sw/ew filters (the pg_trgm GIN indexes). PostgreSQL
-- estimates `LIKE '%x%'` from the column's histogram: with the default 100 buckets one sampled match reads as 1% of
-- the table, and a list's `ORDER BY created_at LIMIT n` then walks the (created_at, id) index filtering every row
-- instead of reading the few matches from the GIN index. With 1,000 buckets a pattern must match about 0.1% of the
-- users before the estimate moves at all, so a rare substring is read through its index and a common one still
-- stops early on the ordered walk. Costs ANALYZE a larger sample of these two columns only.
ALTER TABLE "scim_user" ALTER COLUMN "user_name_normalized" SET STATISTICS 1000;
ALTER TABLE "scim_user_email" ALTER COLUMN "value_normalized" SET STATISTICS 1000;
