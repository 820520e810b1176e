-- 0011_seed_plans_table.down.sql
BEGIN;

DELETE FROM plans WHERE code IN ('free', 'pro', 'business');

COMMIT;
