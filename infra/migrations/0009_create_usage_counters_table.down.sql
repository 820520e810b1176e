BEGIN;

DROP TRIGGER usage_counters_set_updated_at ON usage_counters;
DROP TABLE usage_counters;

COMMIT;
